// Thread rules: ownership (another user's thread is a 404, like a missing one), the initial state
// within the state limits, and no deleting a thread while it answers; deleting one leaves no copy
// of its data behind.
import type { contracts, InputOf, JsonObject, Thread } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import type { Principal } from '../auth/auth.service.js';
import { AppError } from '../errors.js';
import { toPage } from '../pagination.js';
import { stateProblem, type StateLimits } from '../state/limits.js';
import * as repo from './threads.repo.js';
import { setHead } from '../messages/messages.repo.js';

function toThreadResource(row: repo.ThreadRow): Thread {
  return {
    id: row.id,
    title: row.title,
    instructions: row.instructions,
    state: row.state ?? null,
    state_version: row.stateVersion,
    state_review: row.stateReview,
    metadata: row.metadata,
    message_count: row.messageCount,
    head_message_id: row.headMessageId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_message_at: row.lastMessageAt?.toISOString() ?? null,
  };
}

export const threadNotFound = () => new AppError('not_found', { message: 'Thread not found.' });

/** The caller's thread, or the one 404 that a missing thread and another user's thread share. */
export async function ownThread(db: Database, userId: number, threadId: number): Promise<repo.ThreadRow> {
  const row = await repo.findThread(db, userId, threadId);
  if (!row) throw threadNotFound();
  return row;
}

/** The caller's thread's state and version, or the same 404 as ownThread. */
export async function ownThreadState(db: Database, userId: number, threadId: number): Promise<repo.ThreadStateRow> {
  const row = await repo.findThreadState(db, userId, threadId);
  if (!row) throw threadNotFound();
  return row;
}

/** 422 when a state breaks the limits; call before anything else touches it. */
export function assertStateAcceptable(state: JsonObject | undefined, limits: StateLimits) {
  if (state === undefined) return;
  const problem = stateProblem(state, limits);
  if (problem) throw AppError.field('state', `The state field ${problem}.`);
}

export interface ThreadsServiceDeps {
  db: Database;
  stateLimits: StateLimits;
  /** Forgets what is kept of these answers outside the database (their stream event logs). */
  forgetAnswers?: (userMessageIds: number[]) => Promise<void>;
}

export function createThreadsService(deps: ThreadsServiceDeps) {
  const { db } = deps;
  return {
    /** 422 when the state breaks the limits; before anything serialises it (a request hash, say). */
    checkState(state: JsonObject | undefined) {
      assertStateAcceptable(state, deps.stateLimits);
    },

    async create(principal: Principal, input: InputOf<typeof contracts.threads.create>) {
      assertStateAcceptable(input.state, deps.stateLimits);
      const row = await repo.insertThread(db, {
        userId: principal.user.id,
        title: input.title ?? null,
        instructions: input.instructions ?? null,
        metadata: input.metadata ?? {},
        state: input.state ?? null,
        stateReview: input.state_review ?? 'auto',
      });
      return toThreadResource(row);
    },

    async list(principal: Principal, input: InputOf<typeof contracts.threads.list>) {
      const rows = await repo.listThreads(db, principal.user.id, {
        ...input,
        metadataKey: input.metadata_key,
        metadataValue: input.metadata_value,
      });
      return toPage(rows, input, toThreadResource);
    },

    async get(principal: Principal, threadId: number) {
      return toThreadResource(await ownThread(db, principal.user.id, threadId));
    },

    async update(principal: Principal, input: InputOf<typeof contracts.threads.update>) {
      const values: Parameters<typeof repo.updateThread>[3] = {};
      if (input.title !== undefined) values.title = input.title;
      if (input.instructions !== undefined) values.instructions = input.instructions;
      if (input.metadata !== undefined) values.metadata = input.metadata;
      if (input.state_review !== undefined) values.stateReview = input.state_review;
      const row = await repo.updateThread(db, principal.user.id, input.threadId, values);
      if (!row) throw threadNotFound();
      return toThreadResource(row);
    },

    /** The head becomes the newest leaf under the message (see setHead in messages.repo.ts). */
    async setHead(principal: Principal, input: InputOf<typeof contracts.threads.setHead>) {
      await ownThread(db, principal.user.id, input.threadId);
      const row = await setHead(db, input.threadId, input.message_id);
      if (!row) throw AppError.field('message_id', 'The message id field must be the id of a message of this thread.');
      return toThreadResource(row);
    },

    /** Deletes the thread and every copy of its data: messages, replayable responses, event logs. */
    async delete(principal: Principal, threadId: number) {
      const outcome = await repo.deleteIdleThread(db, principal.user.id, threadId);
      if (outcome === 'missing') throw threadNotFound();
      if (outcome === 'busy') {
        throw new AppError('conflict', {
          message: 'The thread is answering a message; delete it when the answer is done.',
          headers: { 'Retry-After': '1' },
        });
      }
      await deps.forgetAnswers?.(outcome.userMessageIds);
    },
  };
}

