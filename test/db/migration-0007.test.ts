// Migration 0007 (versioned state) on a database made by the migrations before it: a thread that
// already has a state becomes version 1 with a `thread` revision holding that state whole; a
// thread without one stays at version 0; every thread is in `auto` review mode.
import { rm } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsBefore, MIGRATIONS } from '../support/migrations.js';


describe('migration 0007_state_revisions', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup) await step();
  });

  it('turns existing states into version 1 with a `thread` revision', { timeout: 120_000 }, async () => {
    const before = await migrationsBefore('0007_state_revisions');
    cleanup.push(() => rm(before, { recursive: true, force: true }));
    const client = await PGlite.create('memory://');
    cleanup.push(() => client.close());
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: before });

    await db.execute(sql`insert into users (email, password_hash, role_id) values ('a@example.com', 'x', (select min(id) from roles))`);
    await db.execute(sql`insert into threads (user_id, state) values (1, ${JSON.stringify({ form: { color: 'red' } })}::jsonb), (1, null)`);

    await migrate(db, { migrationsFolder: MIGRATIONS });

    const threads = await db.execute(sql`select id, state_version, state_review from threads order by id`);
    expect(threads.rows).toEqual([
      { id: 1, state_version: 1, state_review: 'auto' },
      { id: 2, state_version: 0, state_review: 'auto' },
    ]);
    const revisions = await db.execute(sql`select thread_id, version, source, message_id, patch, state from state_revisions`);
    expect(revisions.rows).toEqual([
      {
        thread_id: 1,
        version: 1,
        source: 'thread',
        message_id: null,
        patch: [{ op: 'replace', path: '', value: { form: { color: 'red' } } }],
        state: { form: { color: 'red' } },
      },
    ]);
  });
});
