// Migration 0007 (versioned state) on a database made by the migrations before it: a thread that
// already has a state becomes version 1 with a `thread` revision holding that state whole; a
// thread without one stays at version 0; every thread is in `auto` review mode.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';

const migrations = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/** A copy of the migrations folder whose journal stops before `tag`. */
async function migrationsBefore(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ait-migrations-'));
  await cp(migrations, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const index = journal.entries.findIndex((entry) => entry.tag === tag);
  if (index < 0) throw new Error(`no migration ${tag}`);
  journal.entries = journal.entries.slice(0, index);
  await writeFile(journalPath, JSON.stringify(journal));
  return dir;
}

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

    await migrate(db, { migrationsFolder: migrations });

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
