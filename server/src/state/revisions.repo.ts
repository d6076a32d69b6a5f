// The one way a thread's state changes: the new state, its version and the revision that records
// the change, written together in one statement (in the caller's transaction), and only if the state is still the
// version the change was computed from (optimistic: two writers of one version, one wins).
import type { RevisionSource } from '@ai-threads/contracts';
import { and, eq, sql } from 'drizzle-orm';
import { rawStatement, stateRevisions, threads, type Database } from '@ai-threads/db';
import type { JsonObject } from '@ai-threads/contracts';
import { cursorQuery } from '../pagination.js';
import { diff, type JsonPatch } from './json-patch.js';

export type RevisionRow = typeof stateRevisions.$inferSelect;

/** A database or a transaction: what a query runs on. */
type Queryable = Pick<Database, 'select' | 'insert' | 'update'>;

export interface StateChange {
  threadId: number;
  /** The version the change was computed from: the write happens only while it is current. */
  fromVersion: number;
  fromState: JsonObject | null;
  to: JsonObject | null;
  source: RevisionSource;
  messageId: number | null;
}

export type CommitResult = { version: number; patch: JsonPatch } | 'unchanged' | 'moved';

/** Every state change runs it: its text built once (see rawStatement). */
const commitStatement = rawStatement(sql`
    with moved as (
      update ${threads} set state = ${sql.placeholder('to')}::jsonb, state_version = ${sql.placeholder('version')}, updated_at = now()
       where id = ${sql.placeholder('threadId')} and state_version = ${sql.placeholder('fromVersion')}
      returning id)
    insert into ${stateRevisions} (thread_id, version, source, message_id, patch, state)
    select id, ${sql.placeholder('version')}, ${sql.placeholder('source')}, ${sql.placeholder('messageId')}, ${sql.placeholder('patch')}::jsonb, ${sql.placeholder('to')}::jsonb from moved
    returning version`);

/**
 * Writes `to` as the thread's state, version fromVersion + 1, with its revision. 'unchanged' (no
 * write, no revision) when `to` deep-equals `fromState`; 'moved' (no write) when the thread is no
 * longer at `fromVersion`: another writer came first. One statement (the conditional update feeds
 * the revision's insert), so the state and its revision are stored together even outside a
 * transaction; inside one, they are stored with the change that makes them.
 */
export async function commitStateChange(tx: Pick<Database, '_'>, change: StateChange): Promise<CommitResult> {
  const patch = diff(change.fromState, change.to);
  if (patch.length === 0) return 'unchanged';
  const version = change.fromVersion + 1;
  // JSON as text cast to jsonb; a null state is SQL NULL, as the column holds a never-set state.
  const to = change.to === null ? null : JSON.stringify(change.to);
  const rows = await commitStatement(tx, {
    threadId: change.threadId,
    fromVersion: change.fromVersion,
    version,
    to,
    source: change.source,
    messageId: change.messageId,
    patch: JSON.stringify(patch),
  });
  return rows.length === 0 ? 'moved' : { version, patch };
}

/** Newest first, by version; reads limit + 1 rows (see toPage). */
export async function listRevisions(
  db: Queryable,
  threadId: number,
  page: { limit: number; after?: number | undefined; before?: number | undefined },
): Promise<RevisionRow[]> {
  const cursor = cursorQuery(stateRevisions.version, 'desc', page);
  const rows = await db
    .select()
    .from(stateRevisions)
    .where(and(eq(stateRevisions.threadId, threadId), cursor.where))
    .orderBy(cursor.orderBy)
    .limit(cursor.limit);
  return cursor.inListOrder(rows);
}

export async function findRevision(db: Queryable, threadId: number, version: number): Promise<RevisionRow | undefined> {
  const [row] = await db
    .select()
    .from(stateRevisions)
    .where(and(eq(stateRevisions.threadId, threadId), eq(stateRevisions.version, version)))
    .limit(1);
  return row;
}
