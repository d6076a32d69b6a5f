// Cursor pages on ids, for every list: the cursor part of the list's query (cursorQuery), which
// reads limit + 1 rows in list order, and the page made of them (toPage), which trims the extra
// row and sets the cursor.
import type { PageQuery } from '@ai-threads/contracts';
import { asc, desc, gt, lt, type AnyColumn } from 'drizzle-orm';

export interface PageResult<T> {
  data: T[];
  has_more: boolean;
  next_cursor: number | null;
}

/**
 * The cursor condition, order and row count of a list on `id` in `order` (`desc`: newest first),
 * and `inListOrder` for the rows read. Going backward (`before`) the rows nearest the cursor are
 * read against the list's order, then put back in it; add `where` to the list's own filters.
 */
export function cursorQuery(id: AnyColumn, order: 'asc' | 'desc', page: PageQuery) {
  const backward = page.before !== undefined;
  const cursor = page.before ?? page.after;
  // Forward in an ascending list, or backward in a descending one, the ids read grow.
  const ascending = (order === 'asc') !== backward;
  return {
    where: cursor === undefined ? undefined : ascending ? gt(id, cursor) : lt(id, cursor),
    orderBy: ascending ? asc(id) : desc(id),
    limit: page.limit + 1,
    inListOrder: <R>(rows: R[]): R[] => (backward ? rows.reverse() : rows),
  };
}

/**
 * Rows come in list order, with one extra row to tell whether more follow: with `before`, the
 * rows just before the cursor (the extra one first); otherwise the extra one last. `next_cursor`
 * continues in the same direction: pass it as `after` going forward, as `before` going backward;
 * null when nothing more is there.
 */
export function toPage<R extends { id: number }, T>(rows: R[], page: PageQuery, map: (row: R) => T): PageResult<T> {
  const has_more = rows.length > page.limit;
  const backward = page.before !== undefined;
  const kept = has_more ? (backward ? rows.slice(rows.length - page.limit) : rows.slice(0, page.limit)) : rows;
  const edge = backward ? kept[0] : kept[kept.length - 1];
  return { data: kept.map(map), has_more, next_cursor: has_more && edge ? edge.id : null };
}
