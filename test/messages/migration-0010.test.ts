// Migration 0010 (pending messages found through their thread's lease) on a database made by the
// migrations before it: a pending message that is its thread's busy_message_id stays pending (its
// answer may still be running); any other pending message fails as interrupted, since nothing
// would find it any more; answered messages are left alone. The index on `status` is gone, so that
// completing an answer is a HOT update, and `messages` keeps room on its pages for those updates.
// On PGlite, or on a new PostgreSQL database when DATABASE_URL is set.
import { rm } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyDatabase, migrationsBefore, MIGRATIONS } from '../support/migrations.js';

const INTERRUPTED = 'The answer was interrupted (the server stopped); send the message again.';

describe('migration 0010_pending_by_lease', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it("keeps the lease's pending message, fails the other pending ones, drops the status index", { timeout: 120_000 }, async () => {
    const before = await migrationsBefore('0010_pending_by_lease');
    cleanup.push(() => rm(before, { recursive: true, force: true }));
    const db = await emptyDatabase(cleanup);
    await db.migrate(before);

    await db.rows(sql`insert into users (email, password_hash, role_id) values ('a@example.com', 'x', (select min(id) from roles))`);
    await db.rows(sql`insert into threads (id, user_id) values (1, 1), (2, 1)`);
    const rows: Array<[number, number, string]> = [
      [1, 1, 'completed'],
      [2, 1, 'pending'], // left by an answer that died before the lease moved on
      [3, 1, 'pending'], // the lease's message
      [4, 2, 'pending'], // a thread with no lease at all
      [5, 2, 'failed'],
    ];
    for (const [id, threadId, status] of rows) {
      await db.rows(sql`insert into messages (id, thread_id, role, content, status, token_count) values (${id}, ${threadId}, 'user', 'q', ${status}, 1)`);
    }
    await db.rows(sql`update threads set busy_until = now() + interval '1 minute', busy_message_id = 3 where id = 1`);

    await db.migrate(MIGRATIONS);

    expect(await db.rows(sql`select id::int as id, status, error from messages order by id`)).toEqual([
      { id: 1, status: 'completed', error: null },
      { id: 2, status: 'failed', error: INTERRUPTED },
      { id: 3, status: 'pending', error: null },
      { id: 4, status: 'failed', error: INTERRUPTED },
      { id: 5, status: 'failed', error: null },
    ]);
    expect(await db.rows(sql`select indexname from pg_indexes where tablename = 'messages' order by indexname`)).toEqual([
      { indexname: 'messages_pending_proposal_thread_id_idx' },
      { indexname: 'messages_pkey' },
      { indexname: 'messages_thread_id_id_idx' },
      { indexname: 'messages_thread_id_parent_id_id_idx' },
    ]);
    expect(await db.rows(sql`select reloptions from pg_class where relname = 'messages'`)).toEqual([{ reloptions: ['fillfactor=90'] }]);
  });
});
