// The database as drizzle sees it: postgres.js when a DATABASE_URL is given, otherwise the embedded
// PGlite in its thread (open.ts opens either and comes here once it has). Both are the same drizzle
// PgDatabase to the rest of the code. Also the helpers every repository shares.
import { fillPlaceholders, getTableColumns, sql, type SQL, type Table } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite as PGliteClient } from '@electric-sql/pglite';
import type { ParameterOrJSON, Sql, UnsafeQueryOptions } from 'postgres';
import type { PgliteBackend } from './pglite-backend.js';
import type { FolderLock, LockOwner } from './pglite-lock.js';
import * as schema from './schema/index.js';

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

/** Any two instances starting together take turns migrating (a PostgreSQL advisory lock). */
const MIGRATION_LOCK_KEY = 7_240_311;

/** A pool of `max` connections to `url`, and drizzle on it; `migrate()` applies `migrationsFolder`. */
export async function openPostgres(url: string, max: number, migrationsFolder: string) {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 10 });
  const gate = new ConnectionGate(max);
  const db = drizzle({ client: preparedAsConfigured(client, client.options.prepare, gate), schema });
  return {
    db: db as unknown as Database,
    driver: 'postgres' as const,
    async ping() {
      await gate.run(() => client`select 1`);
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
 * At most `size` statements (or transactions) at a time on a pool of `size` connections; the rest
 * wait here, in order. postgres.js would otherwise queue a statement behind another on a connection
 * that is busy, and its queue of busy connections is an array that only shrinks when it is empty:
 * under steady load it never is, and each statement scanned the whole of it (21,000 entries after
 * 8 s of PATCH at c=16, 4% of the CPU, and growing for as long as the load lasts; PATCH at c=64
 * did 0.74x the reference's requests per second, measured). With this gate every statement finds
 * a connection free, and that queue is never used.
 */
class ConnectionGate {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Runs `work` once a connection is free; the connection is free again once it has settled. */
  run<T>(work: () => PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        let settled: PromiseLike<T>;
        try {
          settled = work();
        } catch (error) {
          this.#release();
          return reject(error);
        }
        settled.then(
          (value) => {
            this.#release();
            resolve(value);
          },
          (error: unknown) => {
            this.#release();
            reject(error);
          },
        );
      };
      if (this.#free > 0) {
        this.#free--;
        start();
      } else this.#waiting.push(start);
    });
  }

  #release() {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

type PendingQuery = PromiseLike<unknown> & { values(): PendingQuery };

/**
 * A statement that goes to postgres.js once the gate lets it (when it is awaited, as a postgres.js
 * query starts when it is awaited): what drizzle does with one, `values()` and await.
 */
function gated(gate: ConnectionGate, start: () => ReturnType<Sql['unsafe']>): PendingQuery {
  let arrays = false;
  let running: Promise<unknown> | undefined;
  const pending: PendingQuery = {
    values() {
      arrays = true;
      return pending;
    },
    then(onfulfilled, onrejected) {
      running ??= gate.run(() => {
        const query = start();
        return arrays ? query.values() : query;
      });
      return running.then(onfulfilled, onrejected);
    },
  };
  return pending;
}

/**
 * drizzle runs every query through `unsafe(text, params, {prepare: false})`, whatever the client's
 * setting; postgres.js then describes each statement that has parameters before it runs it: two
 * round trips a query, and the statement parsed again every time. This gives drizzle a client whose
 * queries follow the client's own `prepare` setting instead (postgres.js's default, true: named
 * statements, parsed once per connection, one round trip; `?prepare=false` in the URL turns them
 * off, for PgBouncer in transaction mode), in transactions and savepoints too. On the pool (`gate`),
 * a statement or a whole transaction waits for a free connection; in a transaction, its statements
 * go to its connection.
 */
function preparedAsConfigured(sql: Sql, prepare: boolean, gate?: ConnectionGate): Sql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: ParameterOrJSON<never>[], options?: UnsafeQueryOptions) => {
          const start = () => target.unsafe(query, params, { ...options, prepare });
          return gate ? gated(gate, start) : start();
        };
      }
      if (property === 'begin' || property === 'savepoint') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          const scope = args.pop() as (tx: Sql) => unknown;
          const run = () => method.call(target, ...args, (tx: Sql) => scope(preparedAsConfigured(tx, prepare)));
          return gate ? gate.run(run) : run();
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * Drizzle on PGlite's thread, once it is open. Migrations and every statement go through the
 * thread: the migrator with PGlite's own client there (its statements run once), the service
 * through prepared statements (pglite-driver.ts). Closing it closes the thread, then frees the folder.
 */
export async function pgliteHandle(backend: PgliteBackend, lock: FolderLock | undefined, migrationsFolder: string) {
  const [{ drizzle }, { pgliteDriver }] = await Promise.all([import('drizzle-orm/pglite'), import('./pglite-driver.js')]);
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
