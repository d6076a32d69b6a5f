// Migration tests build a database as an earlier release left it: the migrations folder with its
// journal cut before the migration under test, applied, then the whole folder.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { newPostgresDatabase } from './postgres-database.js';

/** The project's migrations folder. */
export const MIGRATIONS = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/** A temporary copy of the migrations folder whose journal stops before `tag` (the caller removes it). */
export async function migrationsBefore(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ait-migrations-'));
  await cp(MIGRATIONS, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const index = journal.entries.findIndex((entry) => entry.tag === tag);
  if (index < 0) throw new Error(`no migration ${tag}`);
  journal.entries = journal.entries.slice(0, index);
  await writeFile(journalPath, JSON.stringify(journal));
  return dir;
}

export interface Db {
  migrate(folder: string): Promise<void>;
  rows(statement: SQL): Promise<Array<Record<string, unknown>>>;
}

/** A new empty database on this run's engine; its cleanup goes into `cleanup`. */
export async function emptyDatabase(cleanup: Array<() => Promise<unknown>>): Promise<Db> {
  const adminUrl = process.env['DATABASE_URL'];
  if (!adminUrl) {
    const client = await PGlite.create('memory://');
    cleanup.push(() => client.close());
    const db = drizzlePglite(client);
    return {
      migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
      rows: async (statement) => (await db.execute(statement)).rows as Array<Record<string, unknown>>,
    };
  }
  const database = await newPostgresDatabase(adminUrl);
  const client = postgres(database.url, { max: 1, onnotice: () => {} });
  cleanup.push(async () => {
    await client.end();
    await database.drop();
  });
  const db = drizzlePostgres(client);
  return {
    migrate: (folder) => migratePostgres(db, { migrationsFolder: folder }),
    rows: async (statement) => [...(await db.execute(statement))] as Array<Record<string, unknown>>,
  };
}
