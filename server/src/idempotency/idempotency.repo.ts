// Queries for idempotency keys. Each transition is one conditional statement, so two requests
// racing on one key can never both win it.
import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys, type Database } from '@ai-threads/db';


const byKey = (userId: number, key: string) => and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key));
const leaseEnd = (leaseMs: number) => sql`now() + ${`${leaseMs} milliseconds`}::interval`;

/** How long a stored response is replayed; older keys are a new request, and are swept. */
const RETENTION = sql`interval '24 hours'`;
const isExpired = sql`${idempotencyKeys.createdAt} < now() - ${RETENTION}`;

export async function insertInFlight(
  db: Database,
  userId: number,
  key: string,
  requestHash: string,
  leaseMs: number,
  threadId: number | null,
) {
  const rows = await db
    .insert(idempotencyKeys)
    .values({ userId, key, requestHash, status: 'in_flight', lockedUntil: leaseEnd(leaseMs), threadId })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return rows.length > 0;
}

export async function findKey(db: Database, userId: number, key: string) {
  const [row] = await db
    .select({
      row: idempotencyKeys,
      expired: sql<boolean>`${isExpired}`,
      locked: sql<boolean>`coalesce(${idempotencyKeys.lockedUntil} > now(), false)`,
      lockedForMs: sql<number>`coalesce(extract(epoch from ${idempotencyKeys.lockedUntil} - now()) * 1000, 0)::float8`,
    })
    .from(idempotencyKeys)
    .where(byKey(userId, key))
    .limit(1);
  return row;
}

/** Starts a new life for an expired key (over 24 hours old), if nobody else did first. */
export async function renewExpired(
  db: Database,
  userId: number,
  key: string,
  requestHash: string,
  leaseMs: number,
  threadId: number | null,
) {
  const rows = await db
    .update(idempotencyKeys)
    .set({
      requestHash,
      status: 'in_flight',
      lockedUntil: leaseEnd(leaseMs),
      threadId,
      messageId: null,
      responseStatus: null,
      responseBody: null,
      createdAt: sql`now()`,
    })
    .where(and(byKey(userId, key), isExpired))
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

/**
 * Stores the response to replay. `threadId` names the thread whose data the response carries (a
 * created thread), so that deleting the thread deletes the response; when that thread is already
 * gone, so is the key.
 */
export async function complete(db: Database, userId: number, key: string, status: number, body: unknown, threadId?: number) {
  if (threadId === undefined) {
    await db
      .update(idempotencyKeys)
      .set({ status: 'completed', lockedUntil: null, responseStatus: status, responseBody: body })
      .where(byKey(userId, key));
    return;
  }
  const rows = await db
    .update(idempotencyKeys)
    .set({ status: 'completed', lockedUntil: null, responseStatus: status, responseBody: body, threadId })
    .where(and(byKey(userId, key), sql`exists (select 1 from threads where threads.id = ${threadId})`))
    .returning({ key: idempotencyKeys.key });
  if (rows.length === 0) await remove(db, userId, key);
}

export async function markFailed(db: Database, userId: number, key: string) {
  await db.update(idempotencyKeys).set({ status: 'failed', lockedUntil: null }).where(byKey(userId, key));
}

export async function remove(db: Database, userId: number, key: string) {
  await db.delete(idempotencyKeys).where(byKey(userId, key));
}

/**
 * Deletes the keys past their 24 hours (never replayed anyway: see findKey), except one a request
 * still holds. Returns how many.
 */
export async function sweepExpired(db: Database): Promise<number> {
  const rows = await db
    .delete(idempotencyKeys)
    .where(and(isExpired, sql`(${idempotencyKeys.lockedUntil} is null or ${idempotencyKeys.lockedUntil} <= now())`))
    .returning({ key: idempotencyKeys.key });
  return rows.length;
}
