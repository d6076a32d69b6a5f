import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.js';

/**
 * An AI thread. `busy_until`/`busy_message_id` are the answering lease: one answer at a time per
 * thread across every instance, and a crashed answer frees the thread when the lease runs out.
 */
export const threads = pgTable(
  'threads',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title'),
    instructions: text('instructions'),
    state: jsonb('state').$type<Record<string, unknown>>(),
    /** 0 while the state was never set; +1 with each change, each a row of state_revisions. */
    stateVersion: integer('state_version').notNull().default(0),
    /** `auto`: the AI's changes are applied; `review`: they are proposed on the reply. */
    stateReview: text('state_review', { enum: ['auto', 'review'] }).notNull().default('auto'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    messageCount: integer('message_count').notNull().default(0),
    /** The last message of the current branch: where a message without parent_id goes. */
    headMessageId: bigint('head_message_id', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true, mode: 'date' }),
    /** Until when an answer holds the thread (its lease); null or past: the thread is free. */
    busyUntil: timestamp('busy_until', { withTimezone: true, mode: 'date' }),
    /**
     * The message the lease was taken for. Every message stored `pending` is its thread's
     * busy_message_id in the same statement or transaction, and stops being pending no later than
     * its thread's next lease is taken: a thread has at most one pending message, and it is this one.
     */
    busyMessageId: bigint('busy_message_id', { mode: 'number' }),
  },
  (t) => [index('threads_user_id_id_idx').on(t.userId, t.id)],
);
