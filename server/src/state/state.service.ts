// The versioned state of a thread (SPEC.md part 2): read it, patch it, list and read its revisions,
// revert, and a person's answer to the AI's proposal. The checks run in the error table's order:
// 422 (the request's shape, the patch's too), 428 (no precondition), 404, 412 (stale), 409 (a patch
// that does not apply, a proposal no longer pending), then 422 for a result over the state limits.
// Every write goes through commitStateChange: the state, its version and its revision together,
// only if nobody wrote first.
import type { contracts, InputOf, JsonObject, Proposal, StateRevision, StateRevisionWithState, ThreadState } from '@ai-threads/contracts';
import { isJsonObject } from '@ai-threads/contracts';
import { eq } from 'drizzle-orm';
import { threads, type Database } from '@ai-threads/db';
import type { Principal } from '../auth/auth.service.js';
import { AppError } from '../errors.js';
import { messageResources } from '../messages/messages.service.js';
import * as messagesRepo from '../messages/messages.repo.js';
import { toPage } from '../pagination.js';
import { ownThreadState } from '../threads/threads.service.js';
import type { ThreadStateRow } from '../threads/threads.repo.js';
import {
  applyJsonPatch,
  applyMergePatch,
  JsonPatchConflictError,
  JsonPatchInvalidError,
  parseJsonPatch,
  type JsonPatch,
} from './json-patch.js';
import { MergePatchError } from '../ai/merge-patch.js';
import { stateProblem, type StateLimits } from './limits.js';
import { checkPrecondition, requirePrecondition, stateChanged, type Precondition } from './precondition.js';
import * as revisions from './revisions.repo.js';

export interface StateServiceDeps {
  db: Database;
  stateLimits: StateLimits;
}

/** How often a write with `If-Match: *` is tried again when another writer came first. */
const ANY_VERSION_ATTEMPTS = 3;

/** The most operations one JSON Patch may have (the document's `maxItems`). */
const MAX_PATCH_OPERATIONS = 1000;

const conflict = (message: string) => new AppError('conflict', { message });

function toRevision(row: revisions.RevisionRow): StateRevision {
  return {
    version: row.version,
    source: row.source,
    message_id: row.messageId,
    patch: row.patch as StateRevision['patch'],
    created_at: row.createdAt.toISOString(),
  };
}

const stateOf = (row: ThreadStateRow): ThreadState => ({ state: row.state ?? null, version: row.stateVersion });

/** Whether a JSON Patch operation's path is `pointer` or under it. */
const within = (path: string, pointer: string) => pointer === '' || path === pointer || path.startsWith(`${pointer}/`);

export function createStateService(deps: StateServiceDeps) {
  const { db, stateLimits } = deps;

  /** 422 when a computed state breaks the limits (a patch can make a state too big or too deep). */
  function checkResult(state: unknown, field: string): JsonObject | null {
    if (state === null) return null;
    if (!isJsonObject(state)) throw AppError.field(field, `The ${field.replace(/_/g, ' ')} field must leave the state a JSON object.`);
    const problem = stateProblem(state, stateLimits);
    if (problem) throw AppError.field(field, `The resulting state ${problem}.`);
    return state;
  }

  /**
   * Applies a JSON Patch one operation at a time, checking the state against the limits after each
   * `copy`: a copy can double the document, so a few dozen copies of the root would outgrow any
   * memory long before the result is checked. Other operations add at most what the body holds.
   */
  function applyWithinLimits(state: JsonObject | null, patch: JsonPatch): unknown {
    // One working copy for the whole patch (all or nothing still: it is discarded on a failure).
    // Only a `copy` can grow the document faster than the request body does (a root copy doubles
    // it), so the limits are checked after each one, before the next can double it again.
    return applyJsonPatch(state, patch, {
      afterOperation: (document, operation) => {
        if (operation.op !== 'copy' || typeof document !== 'object' || document === null) return;
        const problem = stateProblem(document as JsonObject, stateLimits);
        if (problem) throw AppError.field('json_patch', `The resulting state ${problem}.`);
      },
    });
  }

  /**
   * Computes a change from the thread's current state and commits it, under the precondition.
   * `*` tries again when another writer came first; a version that went stale meanwhile is a 412.
   */
  async function write(
    userId: number,
    threadId: number,
    precondition: Precondition,
    change: (thread: ThreadStateRow) => { to: JsonObject | null; source: revisions.StateChange['source']; messageId: number | null },
  ): Promise<ThreadState> {
    for (let attempt = 1; ; attempt++) {
      const thread = await ownThreadState(db, userId, threadId);
      checkPrecondition(precondition, thread.stateVersion);
      const { to, source, messageId } = change(thread);
      // One statement: the state and its revision together, no transaction needed.
      const result = await revisions.commitStateChange(db, { threadId, fromVersion: thread.stateVersion, fromState: thread.state, to, source, messageId });
      if (result === 'unchanged') return stateOf(thread);
      if (result !== 'moved') return { state: to, version: result.version };
      if (precondition.kind !== 'any' || attempt >= ANY_VERSION_ATTEMPTS) {
        throw stateChanged((await ownThreadState(db, userId, threadId)).stateVersion);
      }
    }
  }

  return {
    async get(principal: Principal, threadId: number): Promise<ThreadState> {
      return stateOf(await ownThreadState(db, principal.user.id, threadId));
    },

    async patch(
      principal: Principal,
      input: InputOf<typeof contracts.threads.state.patch>,
      precondition: Precondition | undefined,
    ): Promise<ThreadState> {
      // 422: the patch itself, before anything else.
      let apply: (state: JsonObject | null) => unknown;
      let field: string;
      if (input.json_patch !== undefined) {
        field = 'json_patch';
        if (input.json_patch.length > MAX_PATCH_OPERATIONS) {
          throw AppError.field(field, `The json patch field must not have more than ${MAX_PATCH_OPERATIONS} operations.`);
        }
        let patch: JsonPatch;
        try {
          patch = parseJsonPatch(input.json_patch, { maxDepth: stateLimits.maxDepth });
        } catch (error) {
          if (error instanceof JsonPatchInvalidError) throw new AppError('validation', { fields: error.fieldErrors('json_patch') });
          throw error;
        }
        apply = (state) => applyWithinLimits(state, patch);
      } else {
        field = 'merge_patch';
        const patch = input.merge_patch!;
        const problem = stateProblem(patch, stateLimits);
        if (problem) throw AppError.field(field, `The merge patch field ${problem}.`);
        apply = (state) => applyMergePatch(state, patch, { maxDepth: stateLimits.maxDepth + 1 });
      }
      const required = requirePrecondition(precondition);
      return write(principal.user.id, input.threadId, required, (thread) => {
        let next: unknown;
        try {
          next = apply(thread.state);
        } catch (error) {
          if (error instanceof JsonPatchConflictError) throw conflict(error.message);
          if (error instanceof MergePatchError) throw AppError.field(field, `The resulting state ${error.message.replace(/^JSON/, 'is JSON')}.`);
          throw error;
        }
        return { to: checkResult(next, field), source: 'state', messageId: null };
      });
    },

    async listRevisions(principal: Principal, input: InputOf<typeof contracts.threads.state.revisions.list>) {
      await ownThreadState(db, principal.user.id, input.threadId);
      const rows = await revisions.listRevisions(db, input.threadId, input);
      return toPage(
        rows.map((row) => ({ ...row, id: row.version })),
        input,
        toRevision,
      );
    },

    async getRevision(principal: Principal, input: InputOf<typeof contracts.threads.state.revisions.get>): Promise<StateRevisionWithState> {
      await ownThreadState(db, principal.user.id, input.threadId);
      const row = await revisions.findRevision(db, input.threadId, input.version);
      if (!row) throw new AppError('not_found', { message: 'The thread has no revision with this version.' });
      return { ...toRevision(row), state: row.state ?? null };
    },

    async revert(
      principal: Principal,
      input: InputOf<typeof contracts.threads.state.revert>,
      precondition: Precondition | undefined,
    ): Promise<ThreadState> {
      const required = requirePrecondition(precondition);
      await ownThreadState(db, principal.user.id, input.threadId);
      const target = await revisions.findRevision(db, input.threadId, input.version);
      if (!target) throw new AppError('not_found', { message: 'The thread has no revision with this version.' });
      return write(principal.user.id, input.threadId, required, () => ({ to: target.state ?? null, source: 'revert', messageId: null }));
    },

    async acceptProposal(
      principal: Principal,
      input: InputOf<typeof contracts.messages.proposal.accept>,
      precondition: Precondition | undefined,
    ) {
      const required = requirePrecondition(precondition);
      const thread = await ownThreadState(db, principal.user.id, input.threadId);
      const message = await proposalMessage(input.threadId, input.messageId);
      checkPrecondition(required, thread.stateVersion);
      const proposal = message.proposal as Proposal;
      if (proposal.status !== 'pending') throw conflict(`The proposal is ${proposal.status}, not pending.`);
      const operations = input.paths
        ? proposal.patch.filter((operation) => input.paths!.some((pointer) => within(operation.path, pointer)))
        : proposal.patch;
      if (operations.length === 0) {
        throw AppError.field('paths', 'The paths field must name at least one path the proposal changes.');
      }
      let next: unknown;
      try {
        next = applyJsonPatch(thread.state, operations);
      } catch (error) {
        if (error instanceof JsonPatchConflictError) {
          throw conflict(`The proposal no longer applies to the current state: ${error.message.replace(/^The patch does not apply: /, '')}`);
        }
        throw error;
      }
      const to = checkResult(next, 'state');
      const outcome = await db
        .transaction(async (tx) => {
          // The thread's row first, as storing a reply locks it (then supersedes proposals): one
          // order of locks, so an accept and a reply stored at once cannot deadlock.
          await tx.select({ id: threads.id }).from(threads).where(eq(threads.id, input.threadId)).for('update');
          const accepted = await messagesRepo.resolveProposal(tx, input.threadId, message.id, 'accepted');
          if (!accepted) throw new ProposalTaken();
          const result = await revisions.commitStateChange(tx, {
            threadId: input.threadId,
            fromVersion: thread.stateVersion,
            fromState: thread.state,
            to,
            source: 'proposal',
            messageId: message.id,
          });
          if (result === 'moved') throw new StateMoved();
          return { accepted, version: result === 'unchanged' ? thread.stateVersion : result.version };
        })
        .catch(async (error: unknown) => {
          if (error instanceof ProposalTaken) throw await notPending(input.threadId, message.id);
          if (error instanceof StateMoved) throw stateChanged((await ownThreadState(db, principal.user.id, input.threadId)).stateVersion);
          throw error;
        });
      return { state: to, version: outcome.version, message: (await messageResources(db, input.threadId, [outcome.accepted]))[0]! };
    },

    async rejectProposal(principal: Principal, input: InputOf<typeof contracts.messages.proposal.reject>) {
      await ownThreadState(db, principal.user.id, input.threadId);
      const message = await proposalMessage(input.threadId, input.messageId);
      const rejected = await messagesRepo.resolveProposal(db, input.threadId, message.id, 'rejected');
      if (!rejected) throw await notPending(input.threadId, message.id);
      return (await messageResources(db, input.threadId, [rejected]))[0]!;
    },
  };

  /** The 409 for a proposal another request resolved first, naming what it is now. */
  async function notPending(threadId: number, messageId: number): Promise<AppError> {
    const now = await messagesRepo.findMessage(db, threadId, messageId);
    return conflict(`The proposal is ${(now?.proposal as Proposal | null)?.status ?? 'gone'}, not pending.`);
  }

  /** The message, with a proposal: 404 for a missing message and for one without a proposal. */
  async function proposalMessage(threadId: number, messageId: number) {
    const message = await messagesRepo.findMessage(db, threadId, messageId);
    if (!message) throw new AppError('not_found', { message: 'Message not found.' });
    if (!message.proposal) throw new AppError('not_found', { message: 'The message has no proposal.' });
    return message;
  }
}

/** Rolls back an accept whose proposal another request accepted or rejected first. */
class ProposalTaken extends Error {}
/** Rolls back an accept whose state another writer changed first. */
class StateMoved extends Error {}

