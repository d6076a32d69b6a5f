import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { threads } from './threads.js';

export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    threadId: bigint('thread_id', { mode: 'number' })
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    /** The message this one follows; null for a root. Always an older message of the same thread. */
    parentId: bigint('parent_id', { mode: 'number' }),
    /** Its place among the messages with the same parent, from 0; set when it is stored (under the lease). */
    siblingIndex: integer('sibling_index').notNull().default(0),
    /** `tool`: the result of a front-end tool call, sent by the client (AG-UI); it answers `toolCallId`. */
    role: text('role', { enum: ['user', 'assistant', 'tool'] }).notNull(),
    content: text('content').notNull(),
    state: jsonb('state').$type<Record<string, unknown>>(),
    updatedState: jsonb('updated_state').$type<Record<string, unknown>>(),
    status: text('status', { enum: ['pending', 'completed', 'failed', 'cancelled'] }).notNull(),
    model: text('model'),
    usage: jsonb('usage').$type<{ prompt_tokens: number; completion_tokens: number }>(),
    latencyMs: integer('latency_ms'),
    firstTokenMs: integer('first_token_ms'),
    contextTruncated: boolean('context_truncated').notNull().default(false),
    /** Tokens of the content, counted once at insert so history windows never re-tokenize. */
    tokenCount: integer('token_count').notNull(),
    error: text('error'),
    /** Completed replies: the thread's state version after the reply. */
    stateVersion: integer('state_version'),
    /** Replies: the JSON Patch from the state the AI started from to updated_state. */
    statePatch: jsonb('state_patch').$type<unknown[]>(),
    /** Review mode: the AI's proposal (status, patch, proposed_state). */
    proposal: jsonb('proposal').$type<{
      status: 'pending' | 'accepted' | 'rejected' | 'superseded';
      patch: unknown[];
      proposed_state: Record<string, unknown>;
    }>(),
    /**
     * Assistant messages: the front-end tools the model called (AG-UI). The answer ended on them;
     * the client runs them and sends their results as `tool` messages.
     */
    toolCalls: jsonb('tool_calls').$type<Array<{ id: string; name: string; arguments: string }>>(),
    /** Tool messages: the id of the call (in its parent's tool_calls) this message is the result of. */
    toolCallId: text('tool_call_id'),
    /** Set by a cancel on any instance; the instance answering polls it. */
    cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true, mode: 'date' }),
    /**
     * Renewed every second by the instance answering this message while it runs: a pending
     * message whose heartbeat stopped has no instance behind it (its server died).
     */
    answerHeartbeatAt: timestamp('answer_heartbeat_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('messages_thread_id_id_idx').on(t.threadId, t.id),
    // A message's siblings (and their count), oldest first; the children of a message, newest first.
    index('messages_thread_id_parent_id_id_idx').on(t.threadId, t.parentId, t.id),
    // No index names `status`: completing an answer changes it, and an update that changes no
    // indexed column is a HOT update (no new entry in any index). A thread's only pending message
    // is its busy_message_id (threads.ts), which is how the pending ones are found.
    // The pending proposals a new one supersedes, found without reading the thread's history.
    index('messages_pending_proposal_thread_id_idx').on(t.threadId).where(sql`${t.proposal} ->> 'status' = 'pending'`),
  ],
);
