// Cursor pages: repositories fetch limit + 1 rows in list order; this trims and sets the cursor.
export interface PageRequest {
  limit: number;
  after?: number | undefined;
  before?: number | undefined;
}

export interface PageResult<T> {
  data: T[];
  has_more: boolean;
  next_cursor: number | null;
}

/**
 * With `before`, the repository returns the rows just before the cursor (still in list order,
 * possibly limit + 1 of them, the extra one first); otherwise the extra row is last.
 */
export function toPage<R extends { id: number }, T>(rows: R[], page: PageRequest, map: (row: R) => T): PageResult<T> {
  const has_more = rows.length > page.limit;
  const kept = has_more ? (page.before !== undefined ? rows.slice(rows.length - page.limit) : rows.slice(0, page.limit)) : rows;
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    has_more,
    next_cursor: last && (page.before !== undefined || has_more) ? last.id : null,
  };
}
