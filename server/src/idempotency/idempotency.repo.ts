// Queries for idempotency keys. Each transition is one conditional statement, so two requests
// racing on one key can never both win it.
import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys, type Database } from '@ai-threads/db';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

const byKey = (userId: number, key: string) => and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key));
const leaseEnd = (leaseMs: number) => sql`now() + ${`${leaseMs} milliseconds`}::interval`;

export async function insertInFlight(db: Database, userId: number, key: string, requestHash: string, leaseMs: number) {
  const rows = await db
    .insert(idempotencyKeys)
    .values({ userId, key, requestHash, status: 'in_flight', lockedUntil: leaseEnd(leaseMs) })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return rows.length > 0;
}

export async function findKey(db: Database, userId: number, key: string) {
  const [row] = await db
    .select({
      row: idempotencyKeys,
      expired: sql<boolean>`${idempotencyKeys.createdAt} < now() - interval '24 hours'`,
      locked: sql<boolean>`coalesce(${idempotencyKeys.lockedUntil} > now(), false)`,
    })
    .from(idempotencyKeys)
    .where(byKey(userId, key))
    .limit(1);
  return row;
}

/** Starts a new life for an expired key (over 24 hours old), if nobody else did first. */
export async function renewExpired(db: Database, userId: number, key: string, requestHash: string, leaseMs: number) {
  const rows = await db
    .update(idempotencyKeys)
    .set({
      requestHash,
      status: 'in_flight',
      lockedUntil: leaseEnd(leaseMs),
      messageId: null,
      responseStatus: null,
      responseBody: null,
      createdAt: sql`now()`,
    })
    .where(and(byKey(userId, key), sql`${idempotencyKeys.createdAt} < now() - interval '24 hours'`))
    .returning({ key: idempotencyKeys.key });
  return rows.length > 0;
}

/** Takes over a key whose earlier attempt failed or crashed (lease run out), if nobody else did. */
export async function takeOver(db: Database, userId: number, key: string, leaseMs: number) {
  const [row] = await db
    .update(idempotencyKeys)
    .set({ status: 'in_flight', lockedUntil: leaseEnd(leaseMs) })
    .where(
      and(
        byKey(userId, key),
        sql`(${idempotencyKeys.status} = 'failed' or (${idempotencyKeys.status} = 'in_flight' and ${idempotencyKeys.lockedUntil} <= now()))`,
      ),
    )
    .returning();
  return row;
}

export async function setMessage(db: Database, userId: number, key: string, messageId: number) {
  await db.update(idempotencyKeys).set({ messageId }).where(byKey(userId, key));
}

export async function complete(db: Database, userId: number, key: string, status: number, body: unknown) {
  await db
    .update(idempotencyKeys)
    .set({ status: 'completed', lockedUntil: null, responseStatus: status, responseBody: body })
    .where(byKey(userId, key));
}

export async function markFailed(db: Database, userId: number, key: string) {
  await db.update(idempotencyKeys).set({ status: 'failed', lockedUntil: null }).where(byKey(userId, key));
}

export async function remove(db: Database, userId: number, key: string) {
  await db.delete(idempotencyKeys).where(byKey(userId, key));
}
