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
 * Rows come in list order, with one extra row to tell whether more follow: with `before`, the
 * rows just before the cursor (the extra one first); otherwise the extra one last. `next_cursor`
 * continues in the same direction: pass it as `after` going forward, as `before` going backward;
 * null when nothing more is there.
 */
export function toPage<R extends { id: number }, T>(rows: R[], page: PageRequest, map: (row: R) => T): PageResult<T> {
  const has_more = rows.length > page.limit;
  const backward = page.before !== undefined;
  const kept = has_more ? (backward ? rows.slice(rows.length - page.limit) : rows.slice(0, page.limit)) : rows;
  const edge = backward ? kept[0] : kept[kept.length - 1];
  return { data: kept.map(map), has_more, next_cursor: has_more && edge ? edge.id : null };
}
