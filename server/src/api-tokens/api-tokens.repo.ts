// Queries for personal API tokens.
import { and, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { apiTokens, type Database } from '@ai-threads/db';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export async function insertApiToken(db: Database, values: typeof apiTokens.$inferInsert): Promise<ApiTokenRow> {
  const [row] = await db.insert(apiTokens).values(values).returning();
  return row!;
}

const active = (userId: number) => and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt));

/** Newest first; `after`/`before` are ids in that order. Fetches one extra row to know has_more. */
export async function listApiTokens(
  db: Database,
  userId: number,
  page: { limit: number; after?: number | undefined; before?: number | undefined },
): Promise<ApiTokenRow[]> {
  if (page.before !== undefined) {
    const rows = await db
      .select()
      .from(apiTokens)
      .where(and(active(userId), gt(apiTokens.id, page.before)))
      .orderBy(apiTokens.id)
      .limit(page.limit + 1);
    return rows.reverse();
  }
  return db
    .select()
    .from(apiTokens)
    .where(page.after !== undefined ? and(active(userId), lt(apiTokens.id, page.after)) : active(userId))
    .orderBy(desc(apiTokens.id))
    .limit(page.limit + 1);
}

export async function findApiToken(db: Database, userId: number, id: number): Promise<ApiTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(active(userId), eq(apiTokens.id, id)))
    .limit(1);
  return row;
}

export async function revokeApiToken(db: Database, userId: number, id: number): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(active(userId), eq(apiTokens.id, id)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}
