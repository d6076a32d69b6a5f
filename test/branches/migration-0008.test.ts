// Migration 0008 (message branches) on a database made by the migrations before it: each existing
// thread, a straight line, becomes one branch: every message's parent is the message before it in
// its thread (by id), the first is the root, each is the only child (sibling_index 0), and the
// head is the last message; a thread without messages has no head. On PGlite, or on a new
// PostgreSQL database when DATABASE_URL is set.
import { rm } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyDatabase, migrationsBefore, MIGRATIONS } from '../support/migrations.js';

describe('migration 0008_message_branches', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('makes each linear thread one branch: parent = the message before, head = the last, sibling_index 0', async () => {
    const before = await migrationsBefore('0008_message_branches');
    cleanup.push(() => rm(before, { recursive: true, force: true }));
    const db = await emptyDatabase(cleanup);
    await db.migrate(before);

    await db.rows(sql`insert into users (email, password_hash, role_id) values ('a@example.com', 'x', (select min(id) from roles))`);
    await db.rows(sql`insert into threads (id, user_id) values (1, 1), (2, 1), (3, 1)`);
    // Two threads whose messages interleave by id; thread 3 has none.
    const rows: Array<[number, number, 'user' | 'assistant', string]> = [
      [1, 1, 'user', 'one-q1'],
      [2, 2, 'user', 'two-q1'],
      [3, 1, 'assistant', 'one-a1'],
      [4, 1, 'user', 'one-q2'],
      [5, 2, 'assistant', 'two-a1'],
      [6, 1, 'assistant', 'one-a2'],
    ];
    for (const [id, threadId, role, content] of rows) {
      await db.rows(
        sql`insert into messages (id, thread_id, role, content, status, token_count) values (${id}, ${threadId}, ${role}, ${content}, 'completed', 1)`,
      );
    }

    await db.migrate(MIGRATIONS);

    const messages = await db.rows(sql`select id::int as id, thread_id::int as thread_id, parent_id::int as parent_id, sibling_index from messages order by id`);
    expect(messages).toEqual([
      { id: 1, thread_id: 1, parent_id: null, sibling_index: 0 },
      { id: 2, thread_id: 2, parent_id: null, sibling_index: 0 },
      { id: 3, thread_id: 1, parent_id: 1, sibling_index: 0 },
      { id: 4, thread_id: 1, parent_id: 3, sibling_index: 0 },
      { id: 5, thread_id: 2, parent_id: 2, sibling_index: 0 },
      { id: 6, thread_id: 1, parent_id: 4, sibling_index: 0 },
    ]);
    const threads = await db.rows(sql`select id::int as id, head_message_id::int as head from threads order by id`);
    expect(threads).toEqual([
      { id: 1, head: 6 },
      { id: 2, head: 5 },
      { id: 3, head: null },
    ]);
  });
});
