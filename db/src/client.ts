// The database client factory: postgres.js when a DATABASE_URL is given, otherwise an embedded
// PGlite. Both are the same drizzle PgDatabase to the rest of the code, and both are migrated here.
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  driver: 'postgres' | 'pglite';
  /** Answers when the database does (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; absent: PGlite. */
  url?: string | undefined;
  /** PGlite data folder, or `memory://`. */
  pgliteDir?: string;
  /** Pool size for postgres.js. */
  poolSize?: number;
  /** Run the migrations before returning (default true). */
  migrate?: boolean;
}

const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

/** Any two instances starting together take turns migrating (a PostgreSQL advisory lock). */
const MIGRATION_LOCK_KEY = 7_240_311;

export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const handle = options.url ? await openPostgres(options.url, options.poolSize ?? 10) : await openPglite(options.pgliteDir ?? '.data/pglite');
  if (options.migrate !== false) {
    try {
      await handle.migrate();
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
  return handle;
}

async function openPostgres(url: string, max: number) {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle({ client, schema });
  return {
    db: db as unknown as Database,
    driver: 'postgres' as const,
    async ping() {
      await client`select 1`;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
    async migrate() {
      // One connection holds the lock for the whole run; drizzle's migrator uses the pool.
      const reserved = await client.reserve();
      try {
        await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migrate(db, { migrationsFolder });
      } finally {
        await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        reserved.release();
      }
    },
  };
}

async function openPglite(dir: string) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dir !== 'memory://' && !dir.startsWith('memory://')) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
  }
  const client = await PGlite.create(dir);
  const db = drizzle({ client, schema });
  return {
    db: db as unknown as Database,
    driver: 'pglite' as const,
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.close();
    },
    async migrate() {
      await migrate(db, { migrationsFolder });
    },
  };
}
