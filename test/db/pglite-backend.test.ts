// PGlite runs in a thread of its own (db/pglite-worker.mjs, db/src/pglite-backend.ts): values cross
// it with PGlite's own codecs (arrays included), errors come back with their SQLSTATE, a closed or
// failed thread refuses further work instead of leaving callers waiting, and a process that never
// closes its database still exits. The thread migrates the database as it opens, before it is
// ready; a migration that fails fails the start, with the database's error; an existing folder
// gets only the migrations it has not had.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { createDatabase } from '@ai-threads/db';
import { startPgliteBackend } from '../../db/src/pglite-backend.js';
import { MIGRATIONS } from '../support/migrations.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('PGlite in its own thread', () => {
  it('answers with the same values as PGlite itself: arrays both ways, times, JSON, and errors with their code', async () => {
    const database = await createDatabase({ pgliteDir: 'memory://' });
    try {
      const [row] = (
        (await database.db.execute(
          sql`select ${sql.param([3, 1, 2])}::int[] as ints, array['a b', null]::text[] as texts,
                     '2026-01-02T03:04:05Z'::timestamptz as at, '{"k": [1, {"n": null}]}'::jsonb as doc`,
        )) as unknown as { rows: Array<Record<string, unknown>> }
      ).rows;
      // drizzle reads times as the text PostgreSQL writes (its own parsers for them, as on postgres.js).
      expect(row).toEqual({ ints: [3, 1, 2], texts: ['a b', null], at: '2026-01-02 03:04:05+00', doc: { k: [1, { n: null }] } });
      await expect(database.db.execute(sql`select 1 / 0`)).rejects.toMatchObject({ cause: { code: '22012' } });
      // The thread is still there after a statement failed.
      expect(((await database.db.execute(sql`select 2 as two`)) as unknown as { rows: unknown[] }).rows).toEqual([{ two: 2 }]);
    } finally {
      await database.close();
    }
  });

  it('is migrated when it says it is ready; a migration that fails fails the start with its error', async () => {
    const database = await createDatabase({ pgliteDir: 'memory://' });
    try {
      const journal = JSON.parse(await readFile(join(MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      const { rows } = (await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as unknown as {
        rows: Array<{ n: number }>;
      };
      expect(rows).toEqual([{ n: journal.entries.length }]);
    } finally {
      await database.close();
    }

    // The project's migrations, the last of which now fails.
    const broken = await mkdtemp(join(tmpdir(), 'ait-broken-migrations-'));
    try {
      await cp(MIGRATIONS, broken, { recursive: true });
      await writeFile(join(broken, '0010_pending_by_lease.sql'), 'select * from no_such_table;');
      await expect(
        startPgliteBackend({ dir: 'memory://', settings: [], newFolder: false, migrationsFolder: broken }),
      ).rejects.toThrow(/no_such_table/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('on an existing folder, applies only the migrations it has not had: none again, a newer one once', { timeout: 120_000 }, async () => {
    const work = await mkdtemp(join(tmpdir(), 'ait-pglite-migrate-'));
    const folder = join(work, 'migrations');
    const dir = join(work, 'data');
    /** What the folder's database holds, read by PGlite itself once the thread has closed it. */
    const inspect = async () => {
      const pg = await PGlite.create(dir);
      try {
        const applied = await pg.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
        const probe = await pg.query<{ present: boolean }>(`select to_regclass('public.migration_probe') is not null as present`);
        return { applied: applied.rows[0]!.n, probe: probe.rows[0]!.present };
      } finally {
        await pg.close();
      }
    };
    const open = async (newFolder: boolean) => {
      const backend = await startPgliteBackend({ dir, settings: [], newFolder, migrationsFolder: folder });
      await backend.close();
    };
    try {
      await cp(MIGRATIONS, folder, { recursive: true });
      const journalFile = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { entries: Array<Record<string, unknown> & { when: number; idx: number }> };
      const count = journal.entries.length;
      await open(true);
      expect(await inspect()).toEqual({ applied: count, probe: false });
      // Up to date: the start finds nothing to do, and does nothing.
      await open(false);
      expect(await inspect()).toEqual({ applied: count, probe: false });
      // A newer migration in the folder: applied at the next start, once.
      const last = journal.entries.at(-1)!;
      journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1, tag: '9999_probe' });
      await writeFile(journalFile, JSON.stringify(journal));
      await writeFile(join(folder, '9999_probe.sql'), 'CREATE TABLE migration_probe (id integer);');
      await open(false);
      expect(await inspect()).toEqual({ applied: count + 1, probe: true });
      await open(false);
      expect(await inspect()).toEqual({ applied: count + 1, probe: true });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses work once closed, with a clear error, instead of leaving the caller waiting', async () => {
    const backend = await startPgliteBackend({ dir: 'memory://', settings: [], newFolder: false });
    await backend.close();
    await expect(backend.exchange(new Uint8Array([83, 0, 0, 0, 4]))).rejects.toThrow(/PGlite thread has ended/);
    await backend.close(); // a second close is a no-op
  });

  it('does not keep a process alive that never closes its database', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ai-threads-pglite-thread-'));
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          join(root, 'node_modules', '.bin', 'tsx'),
          ['--conditions=@ai-threads/source', join(root, 'test/db/fixtures/open-and-forget.ts'), join(dir, 'data')],
          { cwd: root, timeout: 50_000 },
          (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out, stderr: err }),
        );
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout.trim()).toBe('[{"n":0}]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
