// The database client factory: postgres.js when a DATABASE_URL is given, otherwise an embedded
// PGlite. Both are the same drizzle PgDatabase to the rest of the code, and both are migrated here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { fillPlaceholders, getTableColumns, sql, type SQL, type Table } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite as PGliteClient } from '@electric-sql/pglite';
import type { ParameterOrJSON, Sql, UnsafeQueryOptions } from 'postgres';
import { lockDataFolder, type LockOwner } from './pglite-lock.js';
import * as schema from './schema/index.js';

export { DatabaseLockedError, LOCK_FILE, lockDataFolder, type LockOwner } from './pglite-lock.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  driver: 'postgres' | 'pglite';
  /** PGlite: the owner of a stale lock on the data folder that this handle took over. */
  tookOverLockOf?: LockOwner | undefined;
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
  /**
   * Called once the database is at work elsewhere (PGlite: its thread is started; PostgreSQL: at
   * once), while the returned promise is still pending: the caller can do its own work meanwhile.
   */
  onStarted?: () => void;
}

const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

/** Any two instances starting together take turns migrating (a PostgreSQL advisory lock). */
const MIGRATION_LOCK_KEY = 7_240_311;

export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const migrate = options.migrate !== false;
  // PGlite migrates in its thread as it opens, without waiting for this one (which may be busy
  // loading the rest of the service meanwhile).
  if (!options.url) return openPglite(options.pgliteDir ?? '.data/pglite', { migrate, onStarted: options.onStarted });
  options.onStarted?.();
  const handle = await openPostgres(options.url, options.poolSize ?? 10);
  if (migrate) {
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
  const db = drizzle({ client: preparedAsConfigured(client, client.options.prepare), schema });
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

/**
 * drizzle runs every query through `unsafe(text, params, {prepare: false})`, whatever the client's
 * setting; postgres.js then describes each statement that has parameters before it runs it: two
 * round trips a query, and the statement parsed again every time. This gives drizzle a client whose
 * queries follow the client's own `prepare` setting instead (postgres.js's default, true: named
 * statements, parsed once per connection, one round trip; `?prepare=false` in the URL turns them
 * off, for PgBouncer in transaction mode), in transactions and savepoints too.
 */
function preparedAsConfigured(sql: Sql, prepare: boolean): Sql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: ParameterOrJSON<never>[], options?: UnsafeQueryOptions) =>
          target.unsafe(query, params, { ...options, prepare });
      }
      if (property === 'begin' || property === 'savepoint') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const scope = args.pop() as (tx: Sql) => unknown;
          return method.call(target, ...args, (tx: Sql) => scope(preparedAsConfigured(tx, prepare)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * PGlite as a service, not a test: initdb writes `shared_buffers = 128MB` into the folder's
 * postgresql.conf, and in the WASM heap those buffers are resident memory from the start (about
 * 115 MB of the process at rest, measured). The data folder is on disk and the OS caches its files
 * anyway; 16 MB of buffers hold an embedded service's working set (no change in CPU per query was
 * measured against 128 MB or 32 MB). PGlite sets its buffers up in WASM as it opens, so they are
 * also start time: opening an existing folder took 1.16 s with 128 MB, 0.79 s with 32 MB and
 * 0.62 s with 16 MB (measured). Given on the command line, so that the folder's own file stays as made.
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB'];

/**
 * V8 compiles PGlite's 9 MB of WASM twice: at once (Liftoff) and again, optimised, in the
 * background (TurboFan), and keeps both. For the short statements a service runs the optimised
 * code was measured no faster (6,000 statements: 2.3 s of CPU either way once warm), while it costs
 * about 40 MB more resident memory and a second of CPU after each start. The flag is read when a
 * module is compiled, and PGlite is the only WASM this process compiles.
 */
function compileWasmOnce() {
  setFlagsFromString('--liftoff-only');
}

async function openPglite(dir: string, options: { migrate: boolean; onStarted: (() => void) | undefined }) {
  compileWasmOnce();
  const { startPgliteBackend } = await import('./pglite-backend.js');
  let lock: Awaited<ReturnType<typeof lockDataFolder>> | undefined;
  let newFolder = false;
  if (!dir.startsWith('memory://')) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    // One process per folder: a second one would run its own copy of the database on the same files.
    lock = await lockDataFolder(dir);
    newFolder = !existsSync(join(dir, 'PG_VERSION'));
  }
  // The database runs in a thread of its own (pglite-backend.ts), which runs initdb on a new folder.
  // It starts before what this thread needs only once it is open (drizzle's PGlite face, the
  // driver) is loaded: on an existing folder the thread's start is most of the service's.
  const starting = startPgliteBackend({
    dir,
    settings: PGLITE_SETTINGS,
    newFolder,
    migrationsFolder: options.migrate ? migrationsFolder : undefined,
    onStarted: options.onStarted,
  });
  // Handled here, awaited below: a failure while the modules load is not an unhandled rejection.
  starting.catch(() => {});
  let backend;
  let drizzle;
  let pgliteDriver;
  try {
    [{ drizzle }, { pgliteDriver }] = await Promise.all([import('drizzle-orm/pglite'), import('./pglite-driver.js')]);
    backend = await starting;
  } catch (error) {
    await starting.then((started) => started.close(), () => {});
    await lock?.release();
    throw error;
  }
  // Migrations and every statement go through the thread: the migrator with PGlite's own client
  // there (its statements run once), the service through prepared statements (pglite-driver.ts).
  const driver = pgliteDriver(backend);
  const db = drizzle({ client: driver as unknown as PGliteClient, schema });
  return {
    db: db as unknown as Database,
    driver: 'pglite' as const,
    tookOverLockOf: lock?.tookOver,
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      try {
        await driver.close();
      } finally {
        await lock?.release();
      }
    },
    async migrate() {
      await backend.migrate(migrationsFolder);
    },
  };
}

/**
 * A query built once per database and reused: drizzle builds a query's SQL text again on every
 * call (a quarter of a request's CPU on the hot path, profiled), a prepared query only binds its
 * placeholders (`sql.placeholder(name)`) and runs. `build` receives the database the query is for;
 * one built query is kept per database (a WeakMap: tests open many).
 */
export function preparedFor<Q>(build: (db: Database) => Q): (db: Database) => Q {
  const built = new WeakMap<Database, Q>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) built.set(db, (query = build(db)));
    return query;
  };
}

const dialect = new PgDialect();

/**
 * PGlite reads these types as the text PostgreSQL writes (times, intervals, dates, numeric[]), as
 * drizzle's PGlite session asks it to and as drizzle makes postgres.js do: the column decoders
 * (tableRows) take them from there.
 */
const asText = (value: string) => value;
const PGLITE_TEXT_PARSERS = Object.fromEntries([1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182].map((oid) => [oid, asText]));

type Built = ReturnType<typeof dialect.sqlToQuery>;
type PostgresJsClient = { unsafe(text: string, params: unknown[], options: { prepare: boolean }): PromiseLike<unknown[]> & { values(): PromiseLike<unknown[][]> } };
type PgliteQueries = { query(text: string, params: unknown[], options: object): Promise<{ rows: unknown[] }> };

/**
 * Runs a statement built once on the driver under `db` (the database, or the transaction a caller
 * is in), as drizzle's prepared query runs it, without what drizzle does around each call that
 * nothing here uses (a prepared-query object, its cache, logger and tracing wrappers): rows as
 * arrays (`arrays`) or as objects.
 */
function execute(db: Pick<Database, '_'>, built: Built, values: Record<string, unknown>, arrays: boolean): PromiseLike<unknown[]> {
  const client = (db._.session as unknown as { client: PostgresJsClient | PgliteQueries }).client;
  const params = fillPlaceholders(built.params, values);
  if ('unsafe' in client) {
    // The client's own `prepare` setting applies (preparedAsConfigured).
    const pending = client.unsafe(built.sql, params, { prepare: true });
    return arrays ? pending.values() : pending;
  }
  return client.query(built.sql, params, { rowMode: arrays ? 'array' : 'object', parsers: PGLITE_TEXT_PARSERS }).then((result) => result.rows);
}

/**
 * A raw statement (drizzle's `sql`, its values as `sql.placeholder(name)`) whose text is built once,
 * here, instead of on every call: a call only binds its values and runs it, on the database or on
 * a transaction (the one a caller is in). Resolves with the rows as the driver returns them
 * (column names as in the SQL, values as the driver reads them).
 */
export function rawStatement(query: SQL): (db: Pick<Database, '_'>, values: Record<string, unknown>) => Promise<Array<Record<string, unknown>>> {
  const built = dialect.sqlToQuery(query);
  return async (db, values) => (await execute(db, built, values, false)) as Array<Record<string, unknown>>;
}

/**
 * A statement built once (as rawStatement) that reads its rows as arrays, in the order of the
 * select list, and hands them to `map`: both drivers then skip making an object of each row.
 */
export function mappedStatement<R>(query: SQL, map: (row: unknown[]) => R): (db: Pick<Database, '_'>, values: Record<string, unknown>) => Promise<R[]> {
  const built = dialect.sqlToQuery(query);
  return async (db, values) => ((await execute(db, built, values, true)) as unknown[][]).map(map);
}

/**
 * The columns of `table` as a select list (`"t"."a", "t"."b", ...`, or under another name:
 * `columnsOf('m')`), and the reader of a row that holds them (an array, as mappedStatement gives
 * it; at `from`, when other columns come first) into the row object a drizzle select of the table
 * gives (its keys, its types): the same column decoders, without drizzle's work around each value
 * (`is()` checks, key paths), which on a page of 20 messages was about 4% of the request's self
 * time (profiled).
 */
export function tableRows<T extends Table>(
  table: T,
): { columns: SQL; columnsOf: (alias: string) => SQL; width: number; read: (row: unknown[], from?: number) => T['$inferSelect'] } {
  const all = Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, column }));
  return {
    columns: sql.join(all.map(({ column }) => column), sql`, `),
    columnsOf: (alias) => sql.join(all.map(({ column }) => sql`${sql.identifier(alias)}.${sql.identifier(column.name)}`), sql`, `),
    /** How many columns: where the next ones of a wider row start. */
    width: all.length,
    read: (row, from = 0) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < all.length; i++) {
        const value = row[from + i];
        out[all[i]!.key] = value === null || value === undefined ? null : all[i]!.column.mapFromDriverValue(value);
      }
      return out as T['$inferSelect'];
    },
  };
}
