ALTER TABLE "messages" ADD COLUMN "answer_heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "thread_id" bigint;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idempotency_keys_thread_id_idx" ON "idempotency_keys" USING btree ("thread_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
-- Existing keys: tie each to the thread its response carries; those of threads already deleted go.
UPDATE "idempotency_keys" AS k SET "thread_id" = m."thread_id" FROM "messages" AS m WHERE m."id" = k."message_id";--> statement-breakpoint
UPDATE "idempotency_keys" AS k SET "thread_id" = t."id" FROM "threads" AS t
  WHERE k."thread_id" IS NULL AND k."message_id" IS NULL AND jsonb_exists(k."response_body", 'message_count')
    AND t."id" = (k."response_body" ->> 'id')::bigint AND t."user_id" = k."user_id";--> statement-breakpoint
DELETE FROM "idempotency_keys" WHERE "thread_id" IS NULL
  AND ("message_id" IS NOT NULL OR jsonb_exists("response_body", 'message_count'));
