import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { threads } from './threads.js';
import { users } from './users.js';

/**
 * Idempotency keys, per user. `in_flight` rows hold a lease (a crashed request frees its key);
 * `completed` rows replay their response for 24 hours, then are swept; `failed` rows let a retry
 * answer the same user message again instead of storing a second one. A key whose response
 * carries a thread's data names that thread, and goes with it when the thread is deleted.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: text('status', { enum: ['in_flight', 'completed', 'failed'] }).notNull(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    threadId: bigint('thread_id', { mode: 'number' }).references(() => threads.id, { onDelete: 'cascade' }),
    messageId: bigint('message_id', { mode: 'number' }),
    responseStatus: integer('response_status'),
    responseBody: jsonb('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index('idempotency_keys_thread_id_idx').on(t.threadId),
    // The sweep of expired keys.
    index('idempotency_keys_created_at_idx').on(t.createdAt),
  ],
);
