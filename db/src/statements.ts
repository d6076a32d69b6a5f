// Hand-written statements for the hot path: SQL that drizzle's builder cannot say (several writes
// in one statement, which needs no transaction), prepared once per database, and the mapping of
// their raw rows to the rows drizzle's own queries return.
import { getTableColumns, type SQL } from 'drizzle-orm';
import type { PgDialect, PgSession, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from './client.js';

/** What a prepared raw statement does: run with its placeholders' values, give its rows. */
export interface RawStatement {
  rows(values: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
}

/**
 * A raw statement (`sql` with `sql.placeholder(name)` for each value) whose text is built once per
 * database and prepared once per connection: each call only binds its values and runs. Works on
 * postgres.js and PGlite alike (drizzle's session of each). Values are typed by the casts in the
 * SQL (`$1::bigint`): postgres.js and PGlite send them as text.
 */
export function rawStatement(name: string, build: () => SQL): (db: Database) => RawStatement {
  const built = new WeakMap<Database, RawStatement>();
  return (db) => {
    let statement = built.get(db);
    if (statement === undefined) {
      const internals = db as unknown as { _: { session: PgSession }; dialect: PgDialect };
      // `all` (internal to drizzle, on both drivers' prepared queries) gives the driver's rows as objects.
      const prepared = internals._.session.prepareQuery(internals.dialect.sqlToQuery(build()), undefined, name, false) as unknown as {
        all(values: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
      };
      statement = {
        rows: (values) => prepared.all(values),
      };
      built.set(db, statement);
    }
    return statement;
  };
}

/**
 * Maps raw rows of a table (snake_case names, the driver's values, an optional prefix on each
 * name) to the row drizzle returns for it (its keys, its types: dates, numbers for bigints).
 * The column list is read once.
 */
export function rowMapper<T extends PgTable>(table: T, prefix = ''): (raw: Record<string, unknown>) => T['$inferSelect'] {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, name: prefix + column.name, column }));
  return (raw) => {
    const row: Record<string, unknown> = {};
    for (const { key, name, column } of columns) {
      const value = raw[name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as T['$inferSelect'];
  };
}

/** `a.col as prefix_col, ...` for every column of a table: its columns, named apart in a join. */
export function prefixedColumns(table: PgTable, alias: string, prefix: string): string {
  return Object.values(getTableColumns(table))
    .map((column) => `${alias}.${column.name} as ${prefix}${column.name}`)
    .join(', ');
}
