ALTER TABLE "threads" ADD COLUMN "head_message_id" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "parent_id" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "sibling_index" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "messages_thread_id_parent_id_id_idx" ON "messages" USING btree ("thread_id","parent_id","id");--> statement-breakpoint
-- Existing threads are straight lines: each message follows the one before it (by id), the first
-- is the root, and the head is the last. Every message is then its parent's only child.
UPDATE "messages" AS m SET "parent_id" = p."prev"
  FROM (SELECT "id", lag("id") OVER (PARTITION BY "thread_id" ORDER BY "id") AS "prev" FROM "messages") AS p
  WHERE p."id" = m."id" AND p."prev" IS NOT NULL;--> statement-breakpoint
UPDATE "threads" AS t SET "head_message_id" = h."id"
  FROM (SELECT "thread_id", max("id") AS "id" FROM "messages" GROUP BY "thread_id") AS h
  WHERE h."thread_id" = t."id";
