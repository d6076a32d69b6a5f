// Queries for threads, always scoped to their owner: another user's thread is never found.
import type { PageQuery } from '@ai-threads/contracts';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { mappedStatement, messages, preparedFor, stateRevisions, tableRows, threads, type Database } from '@ai-threads/db';
import { cursorQuery } from '../pagination.js';

export type ThreadRow = typeof threads.$inferSelect;

/** Inserts a thread; one created with a state is at version 1, its `thread` revision stored with it. */
export async function insertThread(db: Database, values: typeof threads.$inferInsert): Promise<ThreadRow> {
  if (values.state == null) {
    const [row] = await db.insert(threads).values(values).returning();
    return row!;
  }
  const state = values.state;
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(threads).values({ ...values, stateVersion: 1 }).returning();
    await tx.insert(stateRevisions).values({
      threadId: row!.id,
      version: 1,
      source: 'thread',
      messageId: null,
      patch: [{ op: 'replace', path: '', value: state }],
      state,
      createdAt: row!.createdAt,
    });
    return row!;
  });
}

const threadRow = tableRows(threads);

/**
 * Most requests on a thread start here (ownThread): built once, its row read as an array with the
 * columns' own decoders (no drizzle mapping per call).
 */
const threadOfUser = mappedStatement(
  sql`select ${threadRow.columns} from ${threads}
       where ${threads.userId} = ${sql.placeholder('userId')} and ${threads.id} = ${sql.placeholder('id')} limit 1`,
  threadRow.read,
);

export async function findThread(db: Database, userId: number, id: number): Promise<ThreadRow | undefined> {
  const [row] = await threadOfUser(db, { userId, id });
  return row;
}

export type ThreadStateRow = Pick<ThreadRow, 'state' | 'stateVersion'>;

/** The state routes read only the state and its version (not the instructions, metadata, dates): prepared. */
const stateOfUser = preparedFor((db) =>
  db
    .select({ state: threads.state, stateVersion: threads.stateVersion })
    .from(threads)
    .where(and(eq(threads.userId, sql.placeholder('userId')), eq(threads.id, sql.placeholder('id'))))
    .limit(1)
    .prepare('find_thread_state'),
);

export async function findThreadState(db: Database, userId: number, id: number): Promise<ThreadStateRow | undefined> {
  const [row] = await stateOfUser(db).execute({ userId, id });
  return row;
}

/** Newest first; reads limit + 1 rows (see toPage). */
export async function listThreads(
  db: Database,
  userId: number,
  page: PageQuery & { metadataKey?: string | undefined; metadataValue?: string | undefined },
): Promise<ThreadRow[]> {
  const filters: SQL[] = [eq(threads.userId, userId)];
  if (page.metadataKey !== undefined) {
    filters.push(
      page.metadataValue !== undefined
        ? sql`${threads.metadata} ->> ${page.metadataKey} = ${page.metadataValue}`
        : sql`jsonb_exists(${threads.metadata}, ${page.metadataKey})`,
    );
  }
  const cursor = cursorQuery(threads.id, 'desc', page);
  const rows = await db
    .select()
    .from(threads)
    .where(and(...filters, cursor.where))
    .orderBy(cursor.orderBy)
    .limit(cursor.limit);
  return cursor.inListOrder(rows);
}

export async function updateThread(
  db: Database,
  userId: number,
  id: number,
  values: Partial<Pick<ThreadRow, 'title' | 'instructions' | 'metadata' | 'stateReview'>>,
): Promise<ThreadRow | undefined> {
  const [row] = await db
    .update(threads)
    .set({ ...values, updatedAt: sql`now()` })
    .where(and(eq(threads.userId, userId), eq(threads.id, id)))
    .returning();
  return row;
}

/**
 * Deletes an idle thread with everything that carries its data: its messages and the idempotency
 * keys whose stored responses hold them (both by ON DELETE CASCADE). 'busy' (answering now) or
 * 'missing'; else the ids of its user messages, whose stream event logs are to be forgotten too.
 */
export async function deleteIdleThread(
  db: Database,
  userId: number,
  id: number,
): Promise<{ userMessageIds: number[] } | 'busy' | 'missing'> {
  return db.transaction(async (tx) => {
    // Locked first, so that no answer can start between reading its messages and deleting it.
    const [thread] = await tx
      .select({ idle: sql<boolean>`(${threads.busyUntil} is null or ${threads.busyUntil} < now())` })
      .from(threads)
      .where(and(eq(threads.userId, userId), eq(threads.id, id)))
      .for('update');
    if (!thread) return 'missing';
    if (!thread.idle) return 'busy';
    const userMessages = await tx
      .select({ id: messages.id })
      .from(messages)
      .where(and(eq(messages.threadId, id), eq(messages.role, 'user')));
    await tx.delete(threads).where(eq(threads.id, id));
    return { userMessageIds: userMessages.map((row) => row.id) };
  });
}
