// Queries for personal API tokens.
import type { PageQuery } from '@ai-threads/contracts';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { apiTokens, type Database } from '@ai-threads/db';
import { cursorQuery } from '../pagination.js';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export async function insertApiToken(db: Database, values: typeof apiTokens.$inferInsert): Promise<ApiTokenRow> {
  const [row] = await db.insert(apiTokens).values(values).returning();
  return row!;
}

const active = (userId: number) => and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt));

/** Newest first; reads limit + 1 rows (see toPage). */
export async function listApiTokens(db: Database, userId: number, page: PageQuery): Promise<ApiTokenRow[]> {
  const cursor = cursorQuery(apiTokens.id, 'desc', page);
  const rows = await db
    .select()
    .from(apiTokens)
    .where(and(active(userId), cursor.where))
    .orderBy(cursor.orderBy)
    .limit(cursor.limit);
  return cursor.inListOrder(rows);
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
