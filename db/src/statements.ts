// The rows of hand-written statements (rawStatement, in client.ts) as drizzle's own queries return
// them: several tables' columns in one row, each named apart by a prefix.
import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

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
