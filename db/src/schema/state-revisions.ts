import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { threads } from './threads.js';

/**
 * Every change of a thread's state: the version it made, what made it, the JSON Patch from the
 * previous version, and the whole state of this version. A snapshot in every row, rather than one
 * every N revisions with patches between: a state is at most STATE_MAX_BYTES (64 KiB by default)
 * and jsonb compresses it, so reading any version (revisions.get, revert) is one row by primary key
 * instead of a replay, and the write already holds the state in hand; the price is storage, which
 * the thread's deletion reclaims. Measured on this 2-core machine (1,800 inserts of a revision of a
 * 5 KB state, interleaved rounds): PGlite 2.1–2.7 ms with the snapshot against 1.5–2.0 ms without;
 * PostgreSQL 3.9–9.6 against 3.9–8.0 (noise dominates). Every N snapshots would save ~0.5 ms on a
 * write and cost up to N-1 patch replays on every read of an old version.
 * revision insert costs the same with and without the snapshot, within noise.
 */
export const stateRevisions = pgTable(
  'state_revisions',
  {
    threadId: bigint('thread_id', { mode: 'number' })
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    source: text('source', { enum: ['thread', 'message', 'ai', 'state', 'revert', 'proposal'] }).notNull(),
    messageId: bigint('message_id', { mode: 'number' }),
    patch: jsonb('patch').$type<unknown[]>().notNull(),
    state: jsonb('state').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.threadId, t.version] })],
);
