-- A thread's only pending message is now found through its busy_message_id, and no index names
-- `status` (completing an answer becomes a HOT update). A pending message that is not its
-- thread's busy_message_id had no answer behind it any more: it fails as the sweep would fail it.
UPDATE "messages" AS m SET "status" = 'failed', "error" = 'The answer was interrupted (the server stopped); send the message again.'
  WHERE m."status" = 'pending'
    AND NOT EXISTS (SELECT 1 FROM "threads" AS t WHERE t."id" = m."thread_id" AND t."busy_message_id" = m."id");--> statement-breakpoint
DROP INDEX "messages_pending_thread_id_idx";--> statement-breakpoint
-- Room on each page for the new version of a row updated soon after it is stored (a user message
-- when its answer ends), so that the update stays on the page (HOT) even while other messages fill it.
ALTER TABLE "messages" SET (fillfactor = 90);
