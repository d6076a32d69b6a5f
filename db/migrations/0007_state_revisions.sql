CREATE TABLE "state_revisions" (
	"thread_id" bigint NOT NULL,
	"version" integer NOT NULL,
	"source" text NOT NULL,
	"message_id" bigint,
	"patch" jsonb NOT NULL,
	"state" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "state_revisions_thread_id_version_pk" PRIMARY KEY("thread_id","version")
);
--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "state_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "state_review" text DEFAULT 'auto' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "state_version" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "state_patch" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "proposal" jsonb;--> statement-breakpoint
ALTER TABLE "state_revisions" ADD CONSTRAINT "state_revisions_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_pending_proposal_thread_id_idx" ON "messages" USING btree ("thread_id") WHERE "messages"."proposal" ->> 'status' = 'pending';--> statement-breakpoint
-- Existing threads with a state: that state is version 1, a `thread` revision holding it whole.
UPDATE "threads" SET "state_version" = 1 WHERE "state" IS NOT NULL;--> statement-breakpoint
INSERT INTO "state_revisions" ("thread_id", "version", "source", "message_id", "patch", "state", "created_at")
  SELECT "id", 1, 'thread', NULL, jsonb_build_array(jsonb_build_object('op', 'replace', 'path', '', 'value', "state")), "state", "updated_at"
  FROM "threads" WHERE "state" IS NOT NULL;
