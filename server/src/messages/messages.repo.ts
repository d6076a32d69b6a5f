// Queries for messages and the answering lease. Each step of an answer is one short transaction;
// none is held open while the AI answers.
import { and, asc, desc, eq, gt, inArray, lt, ne, sql } from 'drizzle-orm';
import type { PageQuery } from '@ai-threads/contracts';
import { idempotencyKeys, messages, threads, type Database } from '@ai-threads/db';
import { cursorQuery } from '../pagination.js';
import type { ThreadRow } from '../threads/threads.repo.js';
import { commitStateChange } from '../state/revisions.repo.js';

export type MessageRow = typeof messages.$inferSelect;

const INTERRUPTED = 'The answer was interrupted (the server stopped); send the message again.';
const CANCELLED = 'Cancelled by the client.';

/**
 * `status = 'pending'` as a literal, not a parameter: the partial index on pending messages
 * (messages_pending_thread_id_idx) is then usable whatever the plan, so finding them costs the
 * same in a thread of 10 messages or of 10,000.
 */
const isPending = sql`${messages.status} = 'pending'`;

/** A pending proposal, spelled as the partial index messages_pending_proposal_thread_id_idx is. */
const isPendingProposal = sql`${messages.proposal} ->> 'status' = 'pending'`;

export interface BeginAnswer {
  userId: number;
  threadId: number;
  leaseMs: number;
  content: string;
  state: Record<string, unknown> | null;
  tokenCount: number;
  /** The user message of an earlier failed attempt (same Idempotency-Key), answered again. */
  retryMessageId: number | null;
  /** The precondition: the state versions the client accepts (undefined: any). */
  stateVersions?: number[] | undefined;
}

/** Refusals of beginAnswer, in the spec's order: 404, 412, then the busy 409. */
export type BeginRefusal = 'missing' | { stateChanged: number } | 'busy' | 'stale';

/** Rolls back a transaction that took the lease for a retry that must be refused. */
class StaleRetry extends Error {}

/**
 * Takes the thread's answering lease and stores the user message (pending), in one transaction.
 * 'busy' when another answer holds the lease; 'missing' when the thread is gone; 'stale' when the
 * message to answer again has newer messages after it (its reply would come after theirs).
 */
export async function beginAnswer(
  db: Database,
  input: BeginAnswer,
): Promise<{ thread: ThreadRow; message: MessageRow } | BeginRefusal> {
  return db.transaction(async (tx) => {
    const versions = input.stateVersions;
    const [thread] = await tx
      .update(threads)
      .set({ busyUntil: sql`now() + ${`${input.leaseMs} milliseconds`}::interval` })
      .where(
        and(
          eq(threads.id, input.threadId),
          eq(threads.userId, input.userId),
          sql`(${threads.busyUntil} is null or ${threads.busyUntil} < now())`,
          versions === undefined ? undefined : versions.length === 0 ? sql`false` : inArray(threads.stateVersion, versions),
        ),
      )
      .returning();
    if (!thread) {
      const [exists] = await tx
        .select({ stateVersion: threads.stateVersion })
        .from(threads)
        .where(and(eq(threads.id, input.threadId), eq(threads.userId, input.userId)));
      if (!exists) return 'missing';
      if (versions !== undefined && !versions.includes(exists.stateVersion)) return { stateChanged: exists.stateVersion };
      return 'busy';
    }
    let message: MessageRow | undefined;
    if (input.retryMessageId !== null) {
      // Checked holding the lease, so that no message can be added meanwhile.
      const [newer] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.threadId, input.threadId), gt(messages.id, input.retryMessageId)))
        .limit(1);
      if (newer) throw new StaleRetry();
      // `cancelled` here is a cancel of an answer no instance ran (cancelOrphaned): nothing was
      // stored for it. The cancel is over; this attempt must not see it.
      [message] = await tx
        .update(messages)
        .set({ status: 'pending', error: null, cancelRequestedAt: null, answerHeartbeatAt: sql`now()` })
        .where(
          and(
            eq(messages.id, input.retryMessageId),
            eq(messages.threadId, input.threadId),
            inArray(messages.status, ['pending', 'failed', 'cancelled']),
          ),
        )
        .returning();
    }
    const isNew = !message;
    if (!message) {
      [message] = await tx
        .insert(messages)
        .values({
          threadId: input.threadId,
          role: 'user',
          content: input.content,
          state: input.state,
          status: 'pending',
          tokenCount: input.tokenCount,
          answerHeartbeatAt: sql`now()`,
        })
        .returning();
    }
    // A state sent with the message that differs from the thread's becomes the thread's state: a
    // `message` revision, stored with the message. The lease's update holds the thread's row, so
    // nobody can write the state in between.
    let current = thread;
    // Not again for a retry of a failed attempt: its state was committed then, and an edit made
    // since must not be undone by the same message.
    if (input.state !== null && input.retryMessageId === null) {
      const change = await commitStateChange(tx, {
        threadId: thread.id,
        fromVersion: thread.stateVersion,
        fromState: thread.state,
        to: input.state,
        source: 'message',
        messageId: message!.id,
      });
      if (typeof change === 'object') current = { ...thread, state: input.state, stateVersion: change.version };
    }
    // Holding the lease, any other pending message here was left by an answer that died. The two
    // statements touch different rows and neither reads what the other writes: sent together
    // (pipelined), they cost one round trip.
    const [, [leased]] = await Promise.all([
      tx
        .update(messages)
        .set({ status: 'failed', error: INTERRUPTED })
        .where(and(eq(messages.threadId, input.threadId), isPending, ne(messages.id, message!.id))),
      tx
        .update(threads)
        .set({
          busyMessageId: message!.id,
          ...(isNew
            ? { messageCount: sql`${threads.messageCount} + 1`, lastMessageAt: message!.createdAt, updatedAt: sql`now()` }
            : {}),
        })
        .where(eq(threads.id, input.threadId))
        .returning(),
    ]);
    return { thread: { ...leased!, state: current.state, stateVersion: current.stateVersion }, message: message! };
  }).catch((error: unknown) => {
    if (error instanceof StaleRetry) return 'stale' as const;
    throw error;
  });
}

/** Up to `limit` answered messages before `beforeId`, newest first (for the history window). */
export async function historyPage(db: Database, threadId: number, beforeId: number, limit: number) {
  return db
    .select({ id: messages.id, role: messages.role, content: messages.content, tokenCount: messages.tokenCount })
    .from(messages)
    .where(and(eq(messages.threadId, threadId), lt(messages.id, beforeId), eq(messages.status, 'completed')))
    .orderBy(desc(messages.id))
    .limit(limit);
}

/** The state a reply leaves, decided holding the thread's row (see StoreAnswer.settle). */
export interface ReplyState {
  updatedState: Record<string, unknown> | null;
  statePatch: unknown[];
  proposal: NonNullable<MessageRow['proposal']> | null;
  /** The thread's new state, stored as an `ai` revision; undefined when the state stays. */
  commit?: Record<string, unknown> | null;
}

export interface StoreAnswer {
  threadId: number;
  userMessageId: number;
  reply: Omit<typeof messages.$inferInsert, 'threadId' | 'role' | 'status' | 'updatedState' | 'stateVersion' | 'statePatch' | 'proposal'>;
  /**
   * `completed`: `settle` decides, from the thread's current state and version (read locked), what
   * the reply and the thread hold. `cancelled`: what was produced is kept, both messages say so,
   * and the thread's state stays (the reply's updated_state is `state`).
   */
  outcome:
    | { status: 'completed'; settle: (current: { state: Record<string, unknown> | null; version: number }) => ReplyState }
    | { status: 'cancelled'; state: Record<string, unknown> | null };
}

/** Rolls back the storing of an answer whose user message was ended meanwhile (cancelOrphaned). */
class AlreadyEnded extends Error {}

/**
 * Stores the reply and the user message's outcome, updates the thread (its state as an `ai`
 * revision, or a proposal that supersedes the older pending ones) and frees the lease; null
 * (nothing stored) when the user message is no longer pending: a cancel ended it meanwhile.
 */
export async function storeAnswer(db: Database, input: StoreAnswer): Promise<{ user: MessageRow; reply: MessageRow } | null> {
  const { outcome } = input;
  return db.transaction(async (tx) => {
    // The thread's row, locked: the state to settle against cannot change until this commits.
    const [current] = await tx
      .select({ state: threads.state, version: threads.stateVersion })
      .from(threads)
      .where(eq(threads.id, input.threadId))
      .for('update');
    const settled: ReplyState =
      outcome.status === 'completed'
        ? outcome.settle({ state: current?.state ?? null, version: current?.version ?? 0 })
        : { updatedState: outcome.state, statePatch: [], proposal: null };
    const committing = settled.commit !== undefined && current !== undefined;
    if (settled.proposal) {
      await tx
        .update(messages)
        .set({ proposal: sql`jsonb_set(${messages.proposal}, '{status}', '"superseded"')` })
        .where(and(eq(messages.threadId, input.threadId), isPendingProposal));
    }
    const [reply] = await tx
      .insert(messages)
      .values({
        ...input.reply,
        threadId: input.threadId,
        role: 'assistant',
        status: outcome.status,
        updatedState: settled.updatedState,
        statePatch: settled.statePatch,
        proposal: settled.proposal,
        stateVersion: outcome.status === 'completed' && current ? current.version + (committing ? 1 : 0) : null,
      })
      .returning();
    // Statements on different rows (the revision's writes on the thread come after the lease's),
    // none reading what another writes: sent together (pipelined), one round trip.
    const [[user]] = await Promise.all([
      tx
        .update(messages)
        .set({ status: outcome.status, error: outcome.status === 'cancelled' ? CANCELLED : null })
        .where(and(eq(messages.id, input.userMessageId), isPending))
        .returning(),
      tx
        .update(threads)
        .set({
          messageCount: sql`${threads.messageCount} + 1`,
          lastMessageAt: input.reply.createdAt ?? sql`now()`,
          updatedAt: sql`now()`,
          busyUntil: null,
          busyMessageId: null,
        })
        .where(and(eq(threads.id, input.threadId), eq(threads.busyMessageId, input.userMessageId))),
      committing
        ? commitStateChange(tx, {
            threadId: input.threadId,
            fromVersion: current!.version,
            fromState: current!.state,
            to: settled.commit!,
            source: 'ai',
            messageId: reply!.id,
          })
        : undefined,
    ]);
    if (!user) throw new AlreadyEnded();
    return { user, reply: reply! };
  }).catch((error: unknown) => {
    if (error instanceof AlreadyEnded) return null;
    throw error;
  });
}

/** Marks the user message failed (or cancelled) with a reason, and frees the lease. */
export async function failAnswer(
  db: Database,
  input: { threadId: number; userMessageId: number; status: 'failed' | 'cancelled'; error: string },
) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .update(messages)
      .set({ status: input.status, error: input.error })
      .where(and(eq(messages.id, input.userMessageId), isPending))
      .returning();
    await tx
      .update(threads)
      .set({ busyUntil: null, busyMessageId: null })
      .where(and(eq(threads.id, input.threadId), eq(threads.busyMessageId, input.userMessageId)));
    return user;
  });
}

/** Oldest first; reads limit + 1 rows (see toPage). */
export async function listMessages(db: Database, threadId: number, page: PageQuery): Promise<MessageRow[]> {
  const cursor = cursorQuery(messages.id, 'asc', page);
  const rows = await db
    .select()
    .from(messages)
    .where(and(eq(messages.threadId, threadId), cursor.where))
    .orderBy(cursor.orderBy)
    .limit(cursor.limit);
  return cursor.inListOrder(rows);
}

export async function findMessage(db: Database, threadId: number, id: number): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.threadId, threadId), eq(messages.id, id)))
    .limit(1);
  return row;
}

/** Flags a pending message for cancellation, for the instance that is answering it. */
export async function requestCancel(db: Database, threadId: number, messageId: number): Promise<boolean> {
  const rows = await db
    .update(messages)
    .set({ cancelRequestedAt: sql`now()` })
    .where(and(eq(messages.threadId, threadId), eq(messages.id, messageId), eq(messages.status, 'pending')))
    .returning({ id: messages.id });
  return rows.length > 0;
}

/**
 * The running answer's heartbeat (see messages.answer_heartbeat_at), which also reads whether it
 * must stop: a cancel was requested, or its message was ended (it is no longer pending).
 */
export async function heartbeat(db: Database, messageId: number): Promise<{ stop: boolean }> {
  const [row] = await db
    .update(messages)
    .set({ answerHeartbeatAt: sql`now()` })
    .where(eq(messages.id, messageId))
    .returning({ status: messages.status, cancelRequestedAt: messages.cancelRequestedAt });
  return { stop: !row || row.status !== 'pending' || row.cancelRequestedAt !== null };
}

/**
 * Cancels at once the answer to a pending message that no instance is running: its thread's
 * lease is not held for it, or has run out, or its heartbeat stopped more than `staleMs` ago (its
 * server died). The message becomes `cancelled` with no reply, the lease is freed, and its
 * Idempotency-Key (if any) is marked failed, so that a retry with it answers the message again.
 * Undefined when the answer is alive (or the message is not pending).
 */
export async function cancelOrphaned(
  db: Database,
  input: { threadId: number; messageId: number; staleMs: number },
): Promise<MessageRow | undefined> {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .update(messages)
      .set({ status: 'cancelled', error: CANCELLED })
      .where(
        and(
          eq(messages.id, input.messageId),
          eq(messages.threadId, input.threadId),
          isPending,
          sql`not exists (select 1 from threads t where t.id = ${input.threadId} and t.busy_message_id = ${input.messageId}
                and t.busy_until > now()
                and ${messages.answerHeartbeatAt} > now() - ${`${input.staleMs} milliseconds`}::interval)`,
        ),
      )
      .returning();
    if (!user) return undefined;
    await Promise.all([
      tx
        .update(threads)
        .set({ busyUntil: null, busyMessageId: null })
        .where(and(eq(threads.id, input.threadId), eq(threads.busyMessageId, input.messageId))),
      tx
        .update(idempotencyKeys)
        .set({ status: 'failed', lockedUntil: null })
        .where(
          and(
            eq(idempotencyKeys.threadId, input.threadId),
            eq(idempotencyKeys.messageId, input.messageId),
            eq(idempotencyKeys.status, 'in_flight'),
          ),
        ),
    ]);
    return user;
  });
}

/** The assistant message that answered `userMessageId` (the next one in the thread), if any. */
export async function findReply(db: Database, threadId: number, userMessageId: number): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.threadId, threadId), gt(messages.id, userMessageId)))
    .orderBy(asc(messages.id))
    .limit(1);
  return row?.role === 'assistant' ? row : undefined;
}

/**
 * Marks failed the user messages whose answer died with its server (their thread's lease ran out),
 * so nothing stays `pending` for ever. Returns how many.
 */
export async function sweepInterrupted(db: Database): Promise<number> {
  const rows = await db
    .update(messages)
    .set({ status: 'failed', error: INTERRUPTED })
    .where(
      and(
        isPending,
        sql`not exists (select 1 from threads t where t.id = "messages"."thread_id" and t.busy_message_id = "messages"."id" and t.busy_until > now())`,
      ),
    )
    .returning({ id: messages.id });
  return rows.length;
}
