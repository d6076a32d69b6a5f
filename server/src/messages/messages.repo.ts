// Queries for messages and the answering lease. Each step of an answer is one short transaction;
// none is held open while the AI answers.
import { and, desc, eq, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { PageQuery } from '@ai-threads/contracts';
import { idempotencyKeys, mappedStatement, messages, preparedFor, rawStatement, tableRows, threads, type Database } from '@ai-threads/db';
import { cursorQuery } from '../pagination.js';
import type { ThreadRow } from '../threads/threads.repo.js';
import { commitStateChange } from '../state/revisions.repo.js';
import type { StoredTurn } from '../ai/history.js';

export type MessageRow = typeof messages.$inferSelect;

/** A value of a statement built once (rawStatement), bound at each call. */
const p = (name: string) => sql.placeholder(name);

const INTERRUPTED = 'The answer was interrupted (the server stopped); send the message again.';
const CANCELLED = 'Cancelled by the client.';

/**
 * A message still being answered. No index names `status` (a completed answer's update stays HOT):
 * a pending message is found by its id, which is its thread's busy_message_id (see threads.ts).
 */
const isPending = sql`${messages.status} = 'pending'`;

/**
 * How many messages already follow `parentId` in the thread: the sibling index of one stored now.
 * Read inside the statement that stores it, under the thread's lease (one writer at a time).
 */
function siblingsSoFar(threadId: number, parentId: number | null) {
  return sql`(select count(*)::int from messages s where s.thread_id = ${threadId} and s.parent_id ${
    parentId === null ? sql`is null` : sql`= ${parentId}`
  })`;
}

/**
 * How many messages of a thread share a parent, for a thread and a parent named in SQL (columns of
 * the statement's rows): two index-only counts on (thread_id, parent_id), one of which runs, so it
 * costs the same in a thread of 10 messages or of 10,000 (an `or` of the two cases would scan every
 * message of the thread). Columns of an outer row must be named with their table or alias:
 * unqualified, they would name the subquery's own row.
 */
function siblingCount(threadId: SQL, parentId: SQL) {
  return sql<number>`case when ${parentId} is null
    then (select count(*)::int from messages s where s.thread_id = ${threadId} and s.parent_id is null)
    else (select count(*)::int from messages s where s.thread_id = ${threadId} and s.parent_id = ${parentId}) end`;
}

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
  /**
   * Where a new message goes: after the head (absent), after this (checked) message, or a new
   * root (null). Ignored when answering an existing message again.
   */
  parentId?: number | null | undefined;
  /** Regenerate: answer this existing user (or tool) message again instead of storing a new one. */
  regenerateMessageId?: number | undefined;
  /**
   * Tool results (AG-UI): the message to answer is the last of them, a `tool` message; the ones
   * before it are stored first, completed, each after the one before (the first after the head).
   */
  toolResults?: Array<{ toolCallId: string; content: string; tokenCount: number }> | undefined;
  /** Reserve the reply's id now, so that a stream can name the reply before it is stored. */
  reserveReplyId?: boolean | undefined;
}

/** Refusals of beginAnswer, in the spec's order: 404, 412, then the busy 409. */
export type BeginRefusal = 'missing' | { stateChanged: number } | 'busy' | 'stale';

/**
 * Stores tool results as a chain after `parentId`: each but the last completed, the last pending
 * (the message the answer answers). Returns the last.
 */
async function insertToolResults(
  tx: Database,
  threadId: number,
  parentId: number | null,
  results: NonNullable<BeginAnswer['toolResults']>,
): Promise<MessageRow> {
  let parent = parentId;
  let last: MessageRow | undefined;
  for (const [index, result] of results.entries()) {
    const pending = index === results.length - 1;
    [last] = await tx
      .insert(messages)
      .values({
        threadId,
        parentId: parent,
        siblingIndex: siblingsSoFar(threadId, parent),
        role: 'tool',
        content: result.content,
        toolCallId: result.toolCallId,
        status: pending ? 'pending' : 'completed',
        tokenCount: result.tokenCount,
        ...(pending ? { answerHeartbeatAt: sql`now()` } : {}),
      })
      .returning();
    parent = last!.id;
  }
  return last!;
}

/** A message id taken from the sequence now, for a row inserted later (the reply). */
async function reserveMessageId(tx: Database): Promise<number> {
  const result = await tx.execute(sql`select nextval(pg_get_serial_sequence('messages', 'id')) as id`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ id: string | number }>;
  return Number(rows[0]!.id);
}

/** Rolls back a transaction that took the lease for a retry that must be refused. */
class StaleRetry extends Error {}

const threadRow = tableRows(threads);
const messageRow = tableRows(messages);

/**
 * The common begin, a new message with no state (most requests), as one statement: no transaction,
 * one round trip instead of five. In order: the thread's row, locked (so its head is the newest,
 * even when another answer ended while this statement waited for the lock); the message's id from
 * the sequence; the lease, which also makes that id the head and counts the message, only if the
 * thread is free (and at an accepted state version); the message, after the head (or the given
 * parent), and only if the lease was taken; the message the old lease was taken for failed if it is
 * still pending (its answer died: the lease was free). The refusals read `old`: no row is
 * 'missing', a row without a lease is the precondition's or 'busy'. Every part sees the statement's
 * snapshot, taken before the lock: the only writer of a thread's messages holds its lease, and a
 * lease is given up in the transaction that stored its last message, which the lock waited for.
 */
const beginNewMessage = mappedStatement(sql`
    with old as (
      select id, head_message_id, state_version, busy_message_id from threads
       where id = ${p('threadId')}::bigint and user_id = ${p('userId')}::bigint
         for update
    ), new_id as (
      select nextval('messages_id_seq') as id
    ), lease as (
      update threads t
         set busy_until = now() + ${p('leaseMs')}::int * interval '1 millisecond',
             busy_message_id = n.id, head_message_id = n.id,
             message_count = t.message_count + 1, last_message_at = now(), updated_at = now()
        from old, new_id n
       where t.id = old.id
         and (t.busy_until is null or t.busy_until < now())
         and (${p('versions')}::int[] is null or t.state_version = any(${p('versions')}::int[]))
      returning t.*, old.head_message_id as old_head
    ), parent as (
      select l.id as thread_id, l.busy_message_id as id,
             case when ${p('afterHead')}::boolean then l.old_head else ${p('parentId')}::bigint end as parent_id
        from lease l
    ), msg as (
      insert into messages (id, thread_id, parent_id, sibling_index, role, content, status, token_count, answer_heartbeat_at)
      select p.id, p.thread_id, p.parent_id, ${siblingCount(sql`p.thread_id`, sql`p.parent_id`)},
             'user', ${p('content')}::text, 'pending', ${p('tokenCount')}::int, now()
        from parent p
      returning *
    ), orphans as (
      update messages set status = 'failed', error = ${INTERRUPTED}
       where id = (select busy_message_id from old) and status = 'pending' and exists (select 1 from lease)
    ), reply_id as (
      select nextval('messages_id_seq') as id where ${p('reserveReplyId')}::boolean and exists (select 1 from lease)
    )
    select old.state_version, (select id from reply_id), ${threadRow.columnsOf('l')}, ${messageRow.columnsOf('m')}
      from old left join lease l on true left join msg m on true`,
  (row) => row,
);

/** Where beginNewMessage's row holds the thread's columns, then the message's. */
const BEGUN_THREAD = 2;
const BEGUN_MESSAGE = BEGUN_THREAD + threadRow.width;

/** beginNewMessage's answer: the thread leased and the message stored, or the refusal. */
async function beginNew(db: Database, input: BeginAnswer): ReturnType<typeof beginAnswer> {
  const [row] = await beginNewMessage(db, {
    threadId: input.threadId,
    userId: input.userId,
    leaseMs: input.leaseMs,
    versions: input.stateVersions ?? null,
    afterHead: input.parentId === undefined,
    parentId: input.parentId ?? null,
    content: input.content,
    tokenCount: input.tokenCount,
    reserveReplyId: Boolean(input.reserveReplyId),
  });
  if (!row) return 'missing';
  if (row[BEGUN_MESSAGE] === null) {
    const version = Number(row[0]);
    const versions = input.stateVersions;
    return versions !== undefined && !versions.includes(version) ? { stateChanged: version } : 'busy';
  }
  return {
    thread: threadRow.read(row, BEGUN_THREAD),
    message: messageRow.read(row, BEGUN_MESSAGE),
    previousStatus: null,
    replyId: row[1] === null ? undefined : Number(row[1]),
  };
}

/**
 * Takes the thread's answering lease and stores the user message (pending), in one transaction.
 * 'busy' when another answer holds the lease; 'missing' when the thread is gone; 'stale' when the
 * message to answer again has newer messages after it (its reply would come after theirs).
 */
export async function beginAnswer(
  db: Database,
  input: BeginAnswer,
): Promise<{ thread: ThreadRow; message: MessageRow; previousStatus: MessageRow['status'] | null; replyId: number | undefined } | BeginRefusal> {
  if (input.regenerateMessageId === undefined && input.retryMessageId === null && !input.toolResults?.length && input.state === null) {
    return beginNew(db, input);
  }
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
    let previousStatus: MessageRow['status'] | null = null;
    if (input.regenerateMessageId !== undefined) {
      // The user message stays where it is; its new answer will be a sibling of the old ones.
      const [before] = await tx
        .select({ status: messages.status })
        .from(messages)
        .where(and(eq(messages.id, input.regenerateMessageId), eq(messages.threadId, input.threadId)));
      previousStatus = before?.status ?? null;
      [message] = await tx
        .update(messages)
        .set({ status: 'pending', error: null, cancelRequestedAt: null, answerHeartbeatAt: sql`now()` })
        .where(
          and(eq(messages.id, input.regenerateMessageId), eq(messages.threadId, input.threadId), inArray(messages.role, ['user', 'tool'])),
        )
        .returning();
      if (!message) throw new Error(`regenerate: message ${input.regenerateMessageId} is not a user or tool message of thread ${input.threadId}`);
    } else if (input.retryMessageId !== null) {
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
    let added = 1;
    if (!message && input.toolResults?.length) {
      message = await insertToolResults(tx, input.threadId, thread.headMessageId, input.toolResults);
      added = input.toolResults.length;
    } else if (!message) {
      const parentId = input.parentId === undefined ? thread.headMessageId : input.parentId;
      [message] = await tx
        .insert(messages)
        .values({
          threadId: input.threadId,
          parentId,
          siblingIndex: siblingsSoFar(input.threadId, parentId),
          role: 'user',
          content: input.content,
          state: input.state,
          status: 'pending',
          tokenCount: input.tokenCount,
          answerHeartbeatAt: sql`now()`,
        })
        .returning();
    }
    const replyId = input.reserveReplyId ? await reserveMessageId(tx) : undefined;
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
    // Holding the lease, the message of the lease before it, if still pending, was left by an answer
    // that died (the thread's only pending message, see threads.ts). The two statements touch
    // different rows and neither reads what the other writes: sent together (pipelined), they cost
    // one round trip.
    const orphan = thread.busyMessageId;
    const [, [leased]] = await Promise.all([
      orphan === null || orphan === message!.id
        ? undefined
        : tx
            .update(messages)
            .set({ status: 'failed', error: INTERRUPTED })
            .where(and(eq(messages.id, orphan), eq(messages.threadId, input.threadId), isPending)),
      tx
        .update(threads)
        .set({
          busyMessageId: message!.id,
          // A new message (or the retry of one) is the head; a regenerated one's head moves with its answer.
          ...(input.regenerateMessageId === undefined ? { headMessageId: message!.id } : {}),
          ...(isNew
            ? { messageCount: sql`${threads.messageCount} + 1`, lastMessageAt: message!.createdAt, updatedAt: sql`now()` }
            : {}),
        })
        .where(eq(threads.id, input.threadId))
        .returning(),
    ]);
    return { thread: { ...leased!, state: current.state, stateVersion: current.stateVersion }, message: message!, previousStatus, replyId };
  }).catch((error: unknown) => {
    if (error instanceof StaleRetry) return 'stale' as const;
    throw error;
  });
}

/**
 * Up to `limit` answered messages of the branch that ends at `fromId` (that message included),
 * newest first: the history window walks parents, never the thread's other branches. Each row
 * carries its parent, where the next page starts. A recursive walk by primary key that stops as
 * soon as `limit` answered messages are found, whatever the thread's length or number of branches.
 * Each step is one primary-key lookup (a lateral subquery with a limit): a join on the parent id
 * can be planned as a hash join that reads the whole table at each step (see branchIds).
 */
const historyPageOf = rawStatement(sql`
    with recursive branch as (
      select id, parent_id, role, content, token_count, tool_calls, tool_call_id, status, 0 as depth
        from messages where id = ${p('fromId')}::bigint and thread_id = ${p('threadId')}::bigint
      union all
      select m.id, m.parent_id, m.role, m.content, m.token_count, m.tool_calls, m.tool_call_id, m.status, b.depth + 1
        from branch b
        cross join lateral (
          select id, parent_id, role, content, token_count, tool_calls, tool_call_id, status from messages where id = b.parent_id limit 1
        ) m
    )
    select id, parent_id, role, content, token_count, tool_calls, tool_call_id, depth from branch where status = 'completed' limit ${p('limit')}::int`);

export async function historyPage(db: Database, threadId: number, fromId: number, limit: number): Promise<Array<StoredTurn & { id: number; parentId: number | null }>> {
  const rows = (await historyPageOf(db, { threadId, fromId, limit })) as Array<{
    id: number | string;
    parent_id: number | string | null;
    role: MessageRow['role'];
    content: string;
    token_count: number;
    tool_calls: MessageRow['toolCalls'];
    tool_call_id: string | null;
    depth: number;
  }>;
  return rows
    .sort((a, b) => a.depth - b.depth)
    .map((row) => ({
      id: Number(row.id),
      parentId: row.parent_id === null ? null : Number(row.parent_id),
      ...storedTurn({ role: row.role, content: row.content, tokenCount: Number(row.token_count), toolCalls: row.tool_calls, toolCallId: row.tool_call_id }),
    }));
}

/** The turn the history window counts of a stored message. */
export function storedTurn(row: Pick<MessageRow, 'role' | 'content' | 'tokenCount' | 'toolCalls' | 'toolCallId'>): StoredTurn {
  const { content, tokenCount } = row;
  if (row.role === 'tool') return { role: 'tool', content, tokenCount, toolCallId: row.toolCallId ?? '' };
  if (row.role === 'assistant') return { role: 'assistant', content, tokenCount, toolCalls: row.toolCalls ?? null };
  return { role: 'user', content, tokenCount };
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
    | {
        status: 'completed';
        settle: (current: { state: Record<string, unknown> | null; version: number }) => ReplyState;
        /**
         * The AI left the state as it began (settle would keep it, whatever the current state):
         * the state the reply holds. The reply is then stored without reading the thread first.
         */
        unchanged?: Record<string, unknown> | null;
      }
    | { status: 'cancelled'; state: Record<string, unknown> | null };
  /** A regenerate of an answered message: the user message stays `completed`, even if this answer was cancelled. */
  keepUserCompleted?: boolean;
}

/** Rolls back the storing of an answer whose user message was ended meanwhile (cancelOrphaned). */
class AlreadyEnded extends Error {}

/**
 * storeAnswer when the reply leaves the state as it was (most answers, and every cancelled one):
 * one statement, no transaction. The user message's outcome, only while it is pending (a cancel
 * may have ended it); the rest only if it was: the thread (counted, its head the reply, the lease
 * freed, if this answer still holds it), and the reply, whose id is the reserved one or the
 * sequence's and whose state version is the thread's (null for a cancelled reply). Its rows: the
 * user message then the reply, or none when the user message was no longer pending.
 */
const storeUnchangedReply = mappedStatement(sql`
    with reply_id as (
      select coalesce(${p('replyId')}::bigint, nextval('messages_id_seq')) as id
    ), usr as (
      update messages set status = ${p('userStatus')}::text, error = ${p('userError')}::text
       where id = ${p('userMessageId')}::bigint and status = 'pending'
      returning *
    ), thr as (
      update threads
         set message_count = message_count + 1, last_message_at = now(), updated_at = now(),
             busy_until = null, busy_message_id = null, head_message_id = (select id from reply_id)
       where id = ${p('threadId')}::bigint and busy_message_id = ${p('userMessageId')}::bigint and exists (select 1 from usr)
      returning state_version
    ), reply as (
      insert into messages (id, thread_id, parent_id, sibling_index, role, status, content, tool_calls, model, usage,
                            latency_ms, first_token_ms, context_truncated, token_count, updated_state, state_patch, proposal, state_version)
      select (select id from reply_id), ${p('threadId')}::bigint, u.id, ${siblingCount(sql`u.thread_id`, sql`u.id`)},
             'assistant', ${p('status')}::text, ${p('content')}::text, ${p('toolCalls')}::jsonb, ${p('model')}::text, ${p('usage')}::jsonb,
             ${p('latencyMs')}::int, ${p('firstTokenMs')}::int, ${p('contextTruncated')}::boolean, ${p('tokenCount')}::int,
             ${p('updatedState')}::jsonb, '[]'::jsonb, null,
             case when ${p('status')}::text = 'completed'
                  then coalesce((select state_version from thr), (select state_version from threads where id = ${p('threadId')}::bigint)) end
        from usr u
      returning *
    )
    select 0 as which, ${messageRow.columnsOf('usr')} from usr
    union all
    select 1 as which, ${messageRow.columnsOf('reply')} from reply
    order by which`,
  (row) => messageRow.read(row, 1),
);

/** JSON as text for a jsonb placeholder; null is SQL NULL. */
const jsonText = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

async function storeUnchanged(
  db: Database,
  input: StoreAnswer,
  status: 'completed' | 'cancelled',
  updatedState: Record<string, unknown> | null,
): Promise<{ user: MessageRow; reply: MessageRow } | null> {
  const { reply } = input;
  const userCompleted = input.keepUserCompleted || status === 'completed';
  const rows = await storeUnchangedReply(db, {
    replyId: reply.id ?? null,
    userMessageId: input.userMessageId,
    userStatus: userCompleted ? 'completed' : 'cancelled',
    userError: userCompleted ? null : CANCELLED,
    threadId: input.threadId,
    status,
    content: reply.content,
    toolCalls: jsonText(reply.toolCalls),
    model: reply.model ?? null,
    usage: jsonText(reply.usage),
    latencyMs: reply.latencyMs ?? null,
    firstTokenMs: reply.firstTokenMs ?? null,
    contextTruncated: reply.contextTruncated ?? false,
    tokenCount: reply.tokenCount,
    updatedState: jsonText(updatedState),
  });
  if (rows.length < 2) return null;
  return { user: rows[0]!, reply: rows[1]! };
}

/**
 * Stores the reply and the user message's outcome, updates the thread (its state as an `ai`
 * revision, or a proposal that supersedes the older pending ones) and frees the lease; null
 * (nothing stored) when the user message is no longer pending: a cancel ended it meanwhile.
 */
export async function storeAnswer(db: Database, input: StoreAnswer): Promise<{ user: MessageRow; reply: MessageRow } | null> {
  const { outcome } = input;
  if (outcome.status === 'cancelled') return storeUnchanged(db, input, 'cancelled', outcome.state);
  if (outcome.unchanged !== undefined) return storeUnchanged(db, input, 'completed', outcome.unchanged);
  return db.transaction(async (tx) => {
    // The thread's row, locked: the state to settle against cannot change until this commits.
    const [current] = await tx
      .select({ state: threads.state, version: threads.stateVersion })
      .from(threads)
      .where(eq(threads.id, input.threadId))
      .for('update');
    const settled = outcome.settle({ state: current?.state ?? null, version: current?.version ?? 0 });
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
        parentId: input.userMessageId,
        siblingIndex: siblingsSoFar(input.threadId, input.userMessageId),
        role: 'assistant',
        status: 'completed',
        updatedState: settled.updatedState,
        statePatch: settled.statePatch,
        proposal: settled.proposal,
        stateVersion: current ? current.version + (committing ? 1 : 0) : null,
      })
      .returning();
    // Statements on different rows (the revision's writes on the thread come after the lease's),
    // none reading what another writes: sent together (pipelined), one round trip.
    const [[user]] = await Promise.all([
      tx
        .update(messages)
        .set({ status: 'completed', error: null })
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
          headMessageId: reply!.id,
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
  input: {
    threadId: number;
    userMessageId: number;
    status: 'failed' | 'cancelled';
    error: string;
    /** A regenerate of an answered message: the message goes back to `completed`, its answers kept. */
    restoreCompleted?: boolean;
  },
) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .update(messages)
      .set(input.restoreCompleted ? { status: 'completed', error: null } : { status: input.status, error: input.error })
      .where(and(eq(messages.id, input.userMessageId), isPending))
      .returning();
    await tx
      .update(threads)
      .set({ busyUntil: null, busyMessageId: null })
      .where(and(eq(threads.id, input.threadId), eq(threads.busyMessageId, input.userMessageId)));
    return user;
  });
}

/** A listed message, with how many messages share its parent (its `sibling_count`). */
export type ListedMessage = MessageRow & { siblingCount: number };

/** How many messages of the thread share the listed row's parent (see siblingCount). */
const siblingCountColumn = siblingCount(sql`"messages"."thread_id"`, sql`"messages"."parent_id"`);

/**
 * The ids of the branch that ends at the `branchEnd` placeholder, from it up to the root, never
 * below the `floor` placeholder (a forward cursor). Each step is one primary-key lookup (a lateral
 * subquery with a limit, which the planner cannot turn into a join): a join on the parent id was
 * planned as a hash join that read every message of the table at each step (33 ms for a
 * 40-message branch in a table of 2,560, measured; 0.4 ms this way).
 */
const branchIds = sql`(
  with recursive branch as (
    select id, parent_id from messages where id = ${sql.placeholder('branchEnd')} and thread_id = ${sql.placeholder('threadId')}
    union all
    select p.id, p.parent_id from branch b
      cross join lateral (select m.id, m.parent_id from messages m where m.id = b.parent_id and m.id > ${sql.placeholder('floor')} limit 1) p
  )
  select id from branch)`;

/** A row of a list statement: the message's columns, then its sibling count. */
function listedMessage(row: unknown[]): ListedMessage {
  const listed = messageRow.read(row) as ListedMessage;
  listed.siblingCount = Number(row[row.length - 1]);
  return listed;
}

/**
 * One statement per scope and direction, its text built once (see mappedStatement): `forward`
 * reads ids above the `after` placeholder upward (0 without a cursor: ids start at 1), `backward`
 * ids below `before` downward. Each row comes with its sibling count, so a page is one statement.
 */
function listStatement(scope: 'branch' | 'all', direction: 'forward' | 'backward') {
  const forward = direction === 'forward';
  return mappedStatement(
    sql`
    select ${messageRow.columns}, ${siblingCountColumn} from "messages"
    where "messages"."thread_id" = ${sql.placeholder('threadId')}
      and "messages"."id" ${forward ? sql`> ${sql.placeholder('after')}` : sql`< ${sql.placeholder('before')}`}
      ${scope === 'branch' ? sql`and "messages"."id" in ${branchIds}` : sql``}
    order by "messages"."id" ${forward ? sql`asc` : sql`desc`}
    limit ${sql.placeholder('limit')}`,
    listedMessage,
  );
}

const listStatements = {
  branch: { forward: listStatement('branch', 'forward'), backward: listStatement('branch', 'backward') },
  all: { forward: listStatement('all', 'forward'), backward: listStatement('all', 'backward') },
};

/**
 * Oldest first, each with its sibling count; reads limit + 1 rows (see toPage). `all`: every
 * message of the thread; else the branch that ends at `branchEnd` (root to it), whose ids grow
 * from the root (a parent is always older than its children). Walking up stops below a forward
 * cursor. The same rows as `cursorQuery` (pagination.ts) reads, from a statement built once.
 */
export async function listMessages(
  db: Database,
  threadId: number,
  page: PageQuery,
  scope: { all: true } | { branchEnd: number | null },
): Promise<ListedMessage[]> {
  if ('branchEnd' in scope && scope.branchEnd === null) return [];
  const statements = 'all' in scope ? listStatements.all : listStatements.branch;
  const params = {
    threadId,
    limit: page.limit + 1,
    branchEnd: 'branchEnd' in scope ? scope.branchEnd : null,
    floor: page.after ?? 0,
  };
  if (page.before !== undefined) {
    return (await statements.backward(db, { ...params, before: page.before })).reverse();
  }
  return statements.forward(db, { ...params, after: page.after ?? 0 });
}

/** The messages with the same parent as `message` (itself included), oldest first; limit + 1 rows. */
export async function listSiblings(db: Database, message: MessageRow, page: PageQuery): Promise<MessageRow[]> {
  const cursor = cursorQuery(messages.id, 'asc', page);
  const rows = await db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.threadId, message.threadId),
        message.parentId === null ? isNull(messages.parentId) : eq(messages.parentId, message.parentId),
        cursor.where,
      ),
    )
    .orderBy(cursor.orderBy)
    .limit(cursor.limit);
  return cursor.inListOrder(rows);
}

/**
 * One statement text whatever the page (the parents as one array parameter, the roots as a flag),
 * so it is prepared once and never rebuilt. The parents go as an array literal (`{1,2}`): both
 * drivers bind a text parameter the same way, whatever their array serialisation.
 */
const siblingCountsOf = preparedFor((db) =>
  db
    .select({ parentId: messages.parentId, n: sql<number>`count(*)::int` })
    .from(messages)
    .where(
      and(
        eq(messages.threadId, sql.placeholder('threadId')),
        sql`(${messages.parentId} = any(${sql.placeholder('parents')}::bigint[]) or (${sql.placeholder('roots')}::boolean and ${messages.parentId} is null))`,
      ),
    )
    .groupBy(messages.parentId)
    .prepare('sibling_counts'),
);

/**
 * How many messages share the parent of each of these (all of one thread): the `sibling_count`
 * of the resources. One query, whatever the number of rows.
 */
export async function siblingCounts(db: Database, threadId: number, rows: readonly MessageRow[]): Promise<Map<number | null, number>> {
  const parents = [...new Set(rows.map((row) => row.parentId).filter((id): id is number => id !== null))];
  const roots = rows.some((row) => row.parentId === null);
  const counts = new Map<number | null, number>();
  if (parents.length === 0 && !roots) return counts;
  const found = await siblingCountsOf(db).execute({ threadId, parents: `{${parents.join(',')}}`, roots });
  for (const row of found) counts.set(row.parentId === null ? null : Number(row.parentId), Number(row.n));
  return counts;
}

/**
 * Moves the thread's head to the newest leaf under `messageId`: from it, at each step, the newest
 * child. Undefined when the message is not one of the thread's.
 */
export async function setHead(db: Database, threadId: number, messageId: number): Promise<ThreadRow | undefined> {
  const [row] = await db
    .update(threads)
    .set({
      headMessageId: sql`(
        with recursive down(id, depth) as (
          select id, 0 from messages where id = ${messageId} and thread_id = ${threadId}
          union all
          select (select c.id from messages c where c.thread_id = ${threadId} and c.parent_id = d.id order by c.id desc limit 1), d.depth + 1
            from down d where d.id is not null
        )
        select id from down where id is not null order by depth desc limit 1)`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(threads.id, threadId),
        sql`exists (select 1 from messages where id = ${messageId} and thread_id = ${threadId})`,
      ),
    )
    .returning();
  return row;
}

/** Most message routes start here: prepared (see preparedFor). */
const messageOfThread = preparedFor((db) =>
  db
    .select()
    .from(messages)
    .where(and(eq(messages.threadId, sql.placeholder('threadId')), eq(messages.id, sql.placeholder('id'))))
    .limit(1)
    .prepare('find_message'),
);

export async function findMessage(db: Database, threadId: number, id: number): Promise<MessageRow | undefined> {
  const [row] = await messageOfThread(db).execute({ threadId, id });
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

/** Every running answer beats every few seconds: prepared (see preparedFor). */
const heartbeatOf = preparedFor((db) =>
  db
    .update(messages)
    .set({ answerHeartbeatAt: sql`now()` })
    .where(eq(messages.id, sql.placeholder('messageId')))
    .returning({ status: messages.status, cancelRequestedAt: messages.cancelRequestedAt })
    .prepare('message_heartbeat'),
);

/**
 * The running answer's heartbeat (see messages.answer_heartbeat_at), which also reads whether it
 * must stop: a cancel was requested, or its message was ended (it is no longer pending).
 */
export async function heartbeat(db: Database, messageId: number): Promise<{ stop: boolean }> {
  const [row] = await heartbeatOf(db).execute({ messageId });
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

/**
 * Marks a pending proposal accepted or rejected; undefined when it is not pending (any more): one
 * conditional update, so that of two requests racing for it one wins.
 */
export async function resolveProposal(
  db: Pick<Database, 'update'>,
  threadId: number,
  messageId: number,
  status: 'accepted' | 'rejected',
): Promise<MessageRow | undefined> {
  const [row] = await db
    .update(messages)
    .set({ proposal: sql`jsonb_set(${messages.proposal}, '{status}', ${JSON.stringify(status)}::jsonb)` })
    .where(and(eq(messages.id, messageId), eq(messages.threadId, threadId), isPendingProposal))
    .returning();
  return row;
}

/** The newest answer to `userMessageId` (its newest child, an assistant message), if any. */
const replyOf = preparedFor((db) =>
  db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.threadId, sql.placeholder('threadId')),
        eq(messages.parentId, sql.placeholder('userMessageId')),
        eq(messages.role, 'assistant'),
      ),
    )
    .orderBy(desc(messages.id))
    .limit(1)
    .prepare('find_reply'),
);

export async function findReply(db: Database, threadId: number, userMessageId: number): Promise<MessageRow | undefined> {
  const [row] = await replyOf(db).execute({ threadId, userMessageId });
  return row;
}

/**
 * Marks failed the user messages whose answer died with its server (their thread's lease ran out),
 * so nothing stays `pending` for ever. Returns how many. A pending message is its thread's
 * busy_message_id (see threads.ts): the threads are read, not an index of pending messages, which
 * would make every completed answer's update write new entries in all the indexes of `messages`.
 * Runs once a minute (main.ts); a sequential read of `threads` there.
 */
const sweepInterruptedOnce = rawStatement(sql`
    update messages m set status = 'failed', error = ${INTERRUPTED}
      from threads t
     where t.busy_message_id is not null and (t.busy_until is null or t.busy_until <= now())
       and m.id = t.busy_message_id and m.thread_id = t.id and m.status = 'pending'
    returning m.id`);

export async function sweepInterrupted(db: Database): Promise<number> {
  return (await sweepInterruptedOnce(db, {})).length;
}
