// The seed endpoint's rules. The order of checks is the spec's (422 → 404 → 409, after the guards'
// 401/429/403). An answer then goes through steps, each a function below, in this order: claim
// the Idempotency-Key, begin (the thread's lease and the user message, stored and committed), the
// answer run (the history window and the AI call, with no transaction open, cancellable), and
// store the outcome (the reply, the thread's new state and the freed lease together; or, when the
// AI failed, the user message `failed` with the reason and a 502 or 504).
import { isJsonObject, type contracts, type InputOf, type JsonObject, type JsonPatch, type Message, type MessagePair, type Proposal } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import { Deadline } from '../ai/deadline.js';
import { countTokens, selectHistory, turnOf } from '../ai/history.js';
import { countFixedPromptTokens } from '../ai/prompt.js';
import { AiProviderError, type AiProvider, type AiResult, type ContextItem, type FrontendTool } from '../ai/provider.js';
import type { Principal } from '../auth/auth.service.js';
import { AppError } from '../errors.js';
import type { IdempotencyService, KeyHandle } from '../idempotency/idempotency.service.js';
import { requestHash } from '../idempotency/idempotency.service.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { toPage } from '../pagination.js';
import { applyJsonPatch, diff, jsonEqual, JsonPatchConflictError, patchesOverlap } from '../state/json-patch.js';
import { stateProblem, type StateLimits } from '../state/limits.js';
import { stateChanged, type Precondition } from '../state/precondition.js';
import type { ThreadRow } from '../threads/threads.repo.js';
import { assertStateAcceptable, ownThread, threadNotFound } from '../threads/threads.service.js';
import { AnswerRun, type AnswerRuns } from './answer-runs.js';
import * as repo from './messages.repo.js';
import type { SharedEventLog } from './shared-log.js';

/** The message resource of a row; `siblingCount` is how many messages share its parent. */
function toMessageResource(row: repo.MessageRow, siblingCount: number): Message {
  return {
    id: row.id,
    thread_id: row.threadId,
    parent_id: row.parentId,
    sibling_count: siblingCount,
    sibling_index: row.siblingIndex,
    role: row.role,
    content: row.content,
    tool_calls: row.toolCalls ?? null,
    tool_call_id: row.toolCallId,
    state: row.state ?? null,
    updated_state: row.updatedState ?? null,
    status: row.status,
    model: row.model,
    usage: row.usage ?? null,
    latency_ms: row.latencyMs,
    time_to_first_token_ms: row.firstTokenMs,
    context_truncated: row.contextTruncated,
    error: row.error,
    state_version: row.stateVersion,
    state_patch: (row.statePatch as JsonPatch | null) ?? null,
    proposal: (row.proposal as Proposal | null) ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

/**
 * A message just stored under the thread's lease is its parent's newest child: its siblings are
 * those before it and itself.
 */
const freshMessageResource = (row: repo.MessageRow) => toMessageResource(row, row.siblingIndex + 1);

/** The resources of rows of one thread, with their sibling counts (one query for all). */
export async function messageResources(db: Database, threadId: number, rows: repo.MessageRow[]): Promise<Message[]> {
  const counts = await repo.siblingCounts(db, threadId, rows);
  return rows.map((row) => toMessageResource(row, counts.get(row.parentId) ?? 1));
}

export interface MessagesServiceDeps {
  db: Database;
  ai: AiProvider;
  idempotency: IdempotencyService;
  logger: Logger;
  stateLimits: StateLimits;
  contextTokens: number;
  /** The deadline of a whole answer. */
  answerTimeoutMs: number;
  /** The thread's answering lease: longer than the deadline, so a live answer never loses it. */
  leaseMs: number;
  /** Aborted when the process must stop: answers still running then fail with a clear reason. */
  shutdownSignal?: AbortSignal;
  metrics?: Metrics;
  /** The answers of this instance: running ones (to cancel, to wait for) and their event logs. */
  runs: AnswerRuns;
  /** Events shared across instances (Redis), when configured. */
  sharedLog?: SharedEventLog | undefined;
}

type CreateMessageInput = InputOf<typeof contracts.messages.create>;
type RegenerateInput = InputOf<typeof contracts.messages.regenerate>;

/** The results of front-end tool calls (AG-UI), in the order of the calls. */
export interface ToolResultsInput {
  threadId: number;
  results: Array<{ toolCallId: string; content: string }>;
  /** The state the client holds, when it differs from the thread's (as a message's `state`). */
  state?: JsonObject | undefined;
  expected_state_version?: number | undefined;
  /**
   * The tool message (the thread's head) whose answer failed or was cancelled: the results are
   * stored already, and it is answered again instead of storing them twice.
   */
  retryMessageId?: number | undefined;
}

/**
 * What an answer answers: a new message, an existing user message again (regenerate), or the
 * results of the front-end tools the last answer called (the answer goes on from them).
 */
type AnswerRequest =
  | { kind: 'new'; threadId: number; input: CreateMessageInput }
  | { kind: 'regenerate'; threadId: number; userMessage: repo.MessageRow }
  | { kind: 'tool'; threadId: number; input: ToolResultsInput };

/**
 * The one fingerprint of a message request, whichever route sends it (`/messages`,
 * `/messages/stream`, tRPC): only what the answer depends on, an absent state the same as null,
 * stream-only fields (Last-Event-ID) left out. The same key and body replay across routes.
 */
function messageRequestHash(input: CreateMessageInput): string {
  // The later fields are added only when present, so that the fingerprint of a request without
  // them is what it was before they existed (keys stored then still replay).
  return requestHash('messages.create', {
    threadId: input.threadId,
    content: input.content,
    state: input.state ?? null,
    ...(input.expected_state_version === undefined ? {} : { expectedStateVersion: input.expected_state_version }),
    ...(input.parent_id === undefined ? {} : { parentId: input.parent_id }),
  });
}

export interface AnswerHooks {
  idempotencyKey?: string | undefined;
  /** The run to log this answer's events in (a stream's); the caller finishes it. */
  run?: AnswerRun;
  /** The user message is stored and committed. */
  onCreated?: (message: Message) => void;
  /** Streams the reply's text as it arrives. */
  onDelta?: (delta: string) => void;
  /** An explicit cancel: the answer stops and what it produced is kept, `cancelled`. */
  cancelSignal?: AbortSignal;
  /** Each change the AI makes to the state while answering; `proposed` in review mode. */
  onStateDelta?: (delta: { patch: JsonPatch; proposed: boolean }) => void;
  /** The precondition on the state (If-Match or expected_state_version); checked after 404, before 409. */
  precondition?: Precondition | undefined;
  /** Front-end tools offered to the model (AG-UI); a call to one ends the answer, stored on the reply. */
  tools?: FrontendTool[] | undefined;
  /** The application's context for the model (AG-UI). */
  context?: ContextItem[] | undefined;
  /** Take the reply's id when the answer begins (onBegun tells it), so that a stream can name it at once. */
  reserveReplyId?: boolean | undefined;
  /** The answer began: the state the AI starts from, its version, and the reserved reply id. */
  onBegun?: (begun: { state: JsonObject | null; stateVersion: number; replyId: number | undefined; review: boolean }) => void;
}

export interface CreateMessageResult {
  body: MessagePair;
  replayed: boolean;
}

/** How often a running answer beats its heartbeat, which also reads a cancel made elsewhere. */
const HEARTBEAT_MS = 1000;

/**
 * An answer whose heartbeat is older than this has no instance behind it. A false alarm (an
 * instance stalled this long) only matters to a cancel, which then ends the answer at once
 * instead of storing its partial text.
 */
const HEARTBEAT_STALE_MS = 5 * HEARTBEAT_MS;

/** How often a cancel looks whether the answer it asked another instance to stop has ended. */
const CANCEL_POLL_MS = HEARTBEAT_MS / 4;

/** History rows read per query; the window grows page by page until the budget is spent. */
const HISTORY_PAGE = 100;

const stale = () =>
  new AppError('conflict', {
    message:
      'The message this Idempotency-Key stands for has newer messages after it in the thread; post it again as a new message (with a new key).',
  });

const busy = () =>
  new AppError('conflict', {
    message: 'The thread is still answering an earlier message; retry when it is done.',
    headers: { 'Retry-After': '1' },
  });

/** The answer's message was ended while it ran (a cancel that took it for dead): nothing is stored. */
const endedElsewhere = () => new AppError('upstream_error', { message: 'The answer was cancelled.' });

/** How an answer run ended, before anything of it is stored. */
type RunOutcome =
  | { kind: 'completed'; result: AiResult; truncated: boolean; latencyMs: number }
  | { kind: 'cancelled'; partial: string; latencyMs: number }
  | { kind: 'failed'; error: unknown; deadlinePassed: boolean; latencyMs: number };

function failureOf(
  error: unknown,
  deadlinePassed: boolean,
  shuttingDown: boolean,
): { app: AppError; reason: string; status: 'failed' | 'cancelled' } {
  if (shuttingDown) {
    return {
      app: new AppError('unavailable', { message: 'The server is shutting down; retry the message.', headers: { 'Retry-After': '1' } }),
      reason: 'The server shut down before the answer was complete.',
      status: 'failed',
    };
  }
  if (error instanceof AiProviderError) {
    if (error.kind === 'timeout' || (error.kind === 'cancelled' && deadlinePassed)) {
      return { app: new AppError('upstream_timeout'), reason: `The AI provider timed out: ${error.message}`, status: 'failed' };
    }
    if (error.kind === 'cancelled') {
      return { app: new AppError('upstream_error', { message: 'The answer was cancelled.' }), reason: 'Cancelled.', status: 'cancelled' };
    }
    const what = error.kind === 'malformed' ? 'an answer that could not be read' : 'an error';
    return {
      app: new AppError('upstream_error', { message: `The AI provider failed to answer (${what}).` }),
      reason: `The AI provider failed: ${error.message}`,
      status: 'failed',
    };
  }
  return { app: new AppError('upstream_error'), reason: 'The answer failed unexpectedly.', status: 'failed' };
}

/**
 * How a completed reply settles the state, decided against the thread's current state (read
 * locked when the reply is stored). Review mode: the AI's change is a pending proposal and the
 * state stays. Auto: the AI's change is applied; when someone changed the state while the AI
 * answered, the AI's patch is applied on top of their change, and when it no longer applies there
 * (or the result breaks the limits) it becomes a pending proposal instead: nobody's change is lost.
 */
function settleState(
  start: { state: JsonObject | null; version: number },
  aiState: JsonObject | null,
  review: boolean,
  limits: StateLimits,
): Pick<Extract<repo.StoreAnswer['outcome'], { status: 'completed' }>, 'settle' | 'unchanged'> {
  const patch = diff(start.state, aiState);
  const unchanged: repo.ReplyState = { updatedState: start.state, statePatch: [], proposal: null };
  // The AI changed nothing: the reply keeps the state it began with, whatever the current one.
  if (patch.length === 0) return { settle: () => unchanged, unchanged: start.state };
  const settle = (current: { state: JsonObject | null; version: number }): repo.ReplyState => {
    const proposed: repo.ReplyState = {
      ...unchanged,
      proposal: { status: 'pending', patch, proposed_state: aiState ?? {} },
    };
    if (review || aiState === null) return proposed;
    let next: unknown = aiState;
    if (current.version !== start.version) {
      // Someone changed the state while the AI answered: the AI's change goes on top only where
      // it does not touch what they changed; else it waits as a proposal.
      if (patchesOverlap(start.state, patch, diff(start.state, current.state))) return proposed;
      try {
        next = applyJsonPatch(current.state, patch);
      } catch (error) {
        if (error instanceof JsonPatchConflictError) return proposed;
        throw error;
      }
      if (!isJsonObject(next) || stateProblem(next, limits)) return proposed;
    }
    const to = next as JsonObject;
    return { updatedState: to, statePatch: patch, proposal: null, ...(jsonEqual(to, current.state) ? {} : { commit: to }) };
  };
  return { settle };
}

export function createMessagesService(deps: MessagesServiceDeps) {
  const { db, ai, runs } = deps;

  /** Forgets the event logs of these answers, here and in the shared log. Never throws (logs). */
  async function forgetAnswers(userMessageIds: number[]) {
    runs.forget(userMessageIds);
    try {
      await deps.sharedLog?.forget(userMessageIds);
    } catch (err) {
      deps.logger.warn({ err, answers: userMessageIds.length }, 'redis: stream event logs not deleted; they expire on their own');
    }
  }

  /**
   * Step 2, begin: takes the thread's lease and stores the user message (or takes up the one a
   * failed attempt of this key stored). A refusal gives the key back.
   */
  async function begin(userId: number, what: AnswerRequest, key: KeyHandle, hooks: AnswerHooks) {
    const precondition = hooks.precondition;
    let begun: Awaited<ReturnType<typeof repo.beginAnswer>>;
    try {
      begun = await repo.beginAnswer(db, {
        userId,
        threadId: what.threadId,
        leaseMs: deps.leaseMs,
        stateVersions: precondition?.kind === 'versions' ? precondition.versions : undefined,
        reserveReplyId: hooks.reserveReplyId,
        ...(what.kind === 'new'
          ? {
              content: what.input.content,
              state: what.input.state ?? null,
              tokenCount: countTokens(what.input.content),
              retryMessageId: key.retryMessageId,
              parentId: what.input.parent_id,
            }
          : what.kind === 'tool'
            ? {
                content: '',
                state: what.input.state ?? null,
                tokenCount: 0,
                retryMessageId: key.retryMessageId,
                ...(what.input.retryMessageId === undefined
                  ? { toolResults: what.input.results.map((result) => ({ ...result, tokenCount: countTokens(result.content) })) }
                  : { regenerateMessageId: what.input.retryMessageId }),
              }
            : { content: '', state: null, tokenCount: 0, retryMessageId: null, regenerateMessageId: what.userMessage.id }),
      });
    } catch (error) {
      await key.giveBack();
      throw error;
    }
    if (typeof begun === 'string' || 'stateChanged' in begun) {
      await key.giveBack();
      if (begun === 'busy') deps.metrics?.busyRefusal();
      if (typeof begun === 'object') throw stateChanged(begun.stateChanged);
      throw begun === 'busy' ? busy() : begun === 'stale' ? stale() : threadNotFound();
    }
    // The events of a failed attempt (or of the answers before a regenerate) are not this
    // answer's: a resume must not replay them.
    const again = what.kind === 'regenerate' || (what.kind === 'tool' && what.input.retryMessageId !== undefined);
    if (key.retryMessageId !== null || again) await forgetAnswers([begun.message.id]);
    await key.attachMessage(begun.message.id);
    return begun;
  }

  /**
   * The answered messages of the branch that ends at `fromId` (included; null: none), newest
   * first, read a page at a time as asked for.
   */
  async function* earlierTurns(threadId: number, fromId: number | null) {
    let cursor = fromId;
    while (cursor !== null) {
      const page = await repo.historyPage(db, threadId, cursor, HISTORY_PAGE);
      yield* page;
      if (page.length < HISTORY_PAGE) return;
      cursor = page[page.length - 1]!.parentId;
    }
  }

  /** The newest answered history that fits the budget, oldest first, and whether some was left out. */
  function historyWindow(thread: ThreadRow, newMessage: repo.MessageRow, state: JsonObject | null, hooks: AnswerHooks) {
    return selectHistory(earlierTurns(thread.id, newMessage.parentId), {
      contextTokens: deps.contextTokens,
      fixedTokens: countFixedPromptTokens(thread.instructions, state, hooks),
      newMessageTokens: newMessage.tokenCount,
    });
  }

  /**
   * Beats the answer's heartbeat until the returned function is called. A cancel made on another
   * instance, or the message ended there, reaches the answer this way: it aborts `run.cancel`.
   */
  function beatHeartbeat(messageId: number, run: AnswerRun): () => void {
    const timer = setInterval(() => {
      repo.heartbeat(db, messageId).then(
        ({ stop }) => stop && run.cancel.abort(),
        (err: unknown) => deps.logger.warn({ err, messageId }, 'answer heartbeat failed'),
      );
    }, HEARTBEAT_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Step 3, the answer run: the history window and the AI call, under the deadline, the run's
   * cancel, the caller's and the shutdown's. Never throws: every ending is an outcome to store.
   */
  async function answerRun(
    run: AnswerRun,
    thread: ThreadRow,
    userMessage: repo.MessageRow,
    state: JsonObject | null,
    hooks: AnswerHooks,
  ): Promise<RunOutcome> {
    // The answer's deadline, aborted too by the run's cancel, the caller's and the shutdown. Its reason
    // when the time runs out is a TimeoutError, as AbortSignal.timeout's.
    const stop = new Deadline(
      deps.answerTimeoutMs,
      [run.cancel.signal, hooks.cancelSignal, deps.shutdownSignal],
      () => new DOMException('The answer took longer than its deadline.', 'TimeoutError'),
    );
    const stopHeartbeat = beatHeartbeat(userMessage.id, run);
    let partial = '';
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const history = await historyWindow(thread, userMessage, state, hooks);
      const result = await ai.reply({
        instructions: thread.instructions,
        history: [...history.turns, turnOf(repo.storedTurn(userMessage))],
        state,
        ...(hooks.tools?.length ? { tools: hooks.tools } : {}),
        ...(hooks.context?.length ? { context: hooks.context } : {}),
        signal: stop.signal,
        ...(hooks.onStateDelta
          ? {
              onStateChange: ({ patch }: { patch: JsonPatch }) =>
                hooks.onStateDelta?.({ patch, proposed: thread.stateReview === 'review' }),
            }
          : {}),
        ...(hooks.onDelta
          ? {
              onDelta: (delta: string) => {
                partial += delta;
                hooks.onDelta?.(delta);
              },
            }
          : {}),
      });
      return { kind: 'completed', result, truncated: history.truncated, latencyMs: elapsed() };
    } catch (error) {
      const cancelled = run.cancel.signal.aborted || Boolean(hooks.cancelSignal?.aborted);
      if (cancelled && !stop.expired && error instanceof AiProviderError && error.kind === 'cancelled') {
        return { kind: 'cancelled', partial, latencyMs: elapsed() };
      }
      return { kind: 'failed', error, deadlinePassed: stop.expired, latencyMs: elapsed() };
    } finally {
      stopHeartbeat();
      stop.release();
    }
  }

  /**
   * Step 4, store the outcome. A completed or cancelled answer: the reply, the user message's
   * status, the thread and the freed lease together, then the key's response. A failed one (or a
   * reply that could not be stored): the user message `failed` with the reason, and its error.
   */
  async function storeOutcome(
    thread: ThreadRow,
    userMessage: repo.MessageRow,
    state: JsonObject | null,
    outcome: RunOutcome,
    key: KeyHandle,
    created: Message,
    restoreCompleted: boolean,
    replyId: number | undefined,
  ): Promise<MessagePair> {
    if (outcome.kind === 'failed') return storeFailure(thread, userMessage, outcome, key, restoreCompleted);
    const { latencyMs } = outcome;
    let stored: Awaited<ReturnType<typeof repo.storeAnswer>>;
    try {
      stored =
        outcome.kind === 'completed'
          ? await repo.storeAnswer(db, {
              threadId: thread.id,
              userMessageId: userMessage.id,
              outcome: {
                status: 'completed',
                ...settleState({ state, version: thread.stateVersion }, outcome.result.state, thread.stateReview === 'review', deps.stateLimits),
              },
              reply: {
                ...(replyId === undefined ? {} : { id: replyId }),
                content: outcome.result.content,
                toolCalls: outcome.result.toolCalls?.length ? outcome.result.toolCalls : null,
                model: outcome.result.model,
                usage: outcome.result.usage,
                latencyMs,
                firstTokenMs: outcome.result.firstTokenMs === null ? null : Math.round(outcome.result.firstTokenMs),
                contextTruncated: outcome.truncated,
                tokenCount: countTokens(
                  outcome.result.toolCalls?.length ? outcome.result.content + JSON.stringify(outcome.result.toolCalls) : outcome.result.content,
                ),
              },
            })
          : await repo.storeAnswer(db, {
              threadId: thread.id,
              userMessageId: userMessage.id,
              keepUserCompleted: restoreCompleted,
              outcome: { status: 'cancelled', state },
              reply: {
                ...(replyId === undefined ? {} : { id: replyId }),
                content: outcome.partial,
                model: ai.model,
                latencyMs,
                tokenCount: countTokens(outcome.partial),
              },
            });
    } catch (error) {
      return storeFailure(thread, userMessage, { kind: 'failed', error, deadlinePassed: false, latencyMs }, key, restoreCompleted);
    }
    if (!stored) {
      await key.fail();
      throw endedElsewhere();
    }
    if (outcome.kind === 'completed') {
      const { result } = outcome;
      deps.metrics?.answer({ model: result.model, outcome: 'completed' }, latencyMs / 1000);
      if (result.firstTokenMs !== null) deps.metrics?.firstToken(result.firstTokenMs / 1000);
      if (result.usage) deps.metrics?.tokens(result.usage.prompt_tokens, result.usage.completion_tokens);
    } else {
      deps.metrics?.answer({ model: ai.model, outcome: 'cancelled' }, latencyMs / 1000);
    }
    const body: MessagePair = {
      createdMessage: { ...created, status: stored.user.status, error: stored.user.error },
      responseMessage: freshMessageResource(stored.reply),
    };
    await key.complete(201, body);
    return body;
  }

  /** Stores a failed answer (the user message keeps the reason) and throws the client's error. */
  async function storeFailure(
    thread: ThreadRow,
    userMessage: repo.MessageRow,
    outcome: Extract<RunOutcome, { kind: 'failed' }>,
    key: KeyHandle,
    restoreCompleted: boolean,
  ): Promise<never> {
    const { error } = outcome;
    const failure = failureOf(error, outcome.deadlinePassed, Boolean(deps.shutdownSignal?.aborted));
    deps.metrics?.answer({ model: ai.model, outcome: 'failed' }, outcome.latencyMs / 1000);
    if (!(error instanceof AiProviderError)) deps.logger.error({ err: error, threadId: thread.id }, 'answer failed');
    await repo.failAnswer(db, {
      threadId: thread.id,
      userMessageId: userMessage.id,
      status: failure.status,
      error: failure.reason,
      restoreCompleted,
    });
    await key.fail();
    throw failure.app;
  }

  /** Steps 1 to 4 for a new message or a regenerate: the key, begin, the run, the outcome. */
  async function answer(principal: Principal, what: AnswerRequest, hash: () => string, hooks: AnswerHooks): Promise<CreateMessageResult> {
    const userId = principal.user.id;
    // The caller has checked the thread where a 404 must come first (create, regenerate).

    // 1. Claim the key (a request without one gets a handle that does nothing).
    const claim = await deps.idempotency.claim(userId, hooks.idempotencyKey, hash, what.threadId);
    if (claim.kind === 'replay') return { body: claim.body as MessagePair, replayed: true };
    const { key } = claim;

    // 2. Begin: the lease and the user message (404, then the precondition's 412, then busy).
    const { thread, message: userMessage, previousStatus, replyId } = await begin(userId, what, key, hooks);

    // 3. The answer run, registered so that a cancel or a shutdown finds it.
    const run = hooks.run ?? new AnswerRun();
    runs.register(userMessage.id, run);
    try {
      const created = what.kind === 'regenerate' ? (await messageResources(db, thread.id, [userMessage]))[0]! : freshMessageResource(userMessage);
      // A state sent with the message is the thread's now (begin made it a revision).
      const state = thread.state ?? null;
      hooks.onBegun?.({ state, stateVersion: thread.stateVersion, replyId, review: thread.stateReview === 'review' });
      hooks.onCreated?.(created);
      const outcome = await answerRun(run, thread, userMessage, state, hooks);
      // 4. Store the outcome.
      const restoreCompleted = what.kind === 'regenerate' && previousStatus === 'completed';
      return { body: await storeOutcome(thread, userMessage, state, outcome, key, created, restoreCompleted, replyId), replayed: false };
    } finally {
      // A run of our own logs nothing to replay: it only had to be findable while it ran.
      if (!hooks.run) {
        run.finish();
        runs.release(userMessage.id, run);
      }
    }
  }

  return {
    forgetAnswers,

    async create(principal: Principal, input: CreateMessageInput, hooks: AnswerHooks = {}): Promise<CreateMessageResult> {
      assertStateAcceptable(input.state, deps.stateLimits);
      // The 404 comes before the parent's 422 and before an Idempotency-Key is claimed (its 409).
      // Otherwise beginAnswer tells a missing thread from a busy one itself, and a query is saved.
      if (input.parent_id != null || hooks.idempotencyKey !== undefined) await ownThread(db, principal.user.id, input.threadId);
      if (input.parent_id != null) {
        // An assistant message of this thread.
        const parent = await repo.findMessage(db, input.threadId, input.parent_id);
        if (parent?.role !== 'assistant') {
          throw AppError.field('parent_id', 'The parent id field must be the id of an assistant message of this thread.');
        }
      }
      return answer(principal, { kind: 'new', threadId: input.threadId, input }, () => messageRequestHash(input), hooks);
    },

    /**
     * A new answer to the user message of `messageId` (an assistant message, or a user message
     * whose answer failed), beside the answers it has: the seed endpoint's rules, with the
     * existing user message in place of a new one.
     */
    async regenerate(principal: Principal, input: RegenerateInput, hooks: AnswerHooks = {}): Promise<CreateMessageResult> {
      await ownThread(db, principal.user.id, input.threadId);
      const message = await repo.findMessage(db, input.threadId, input.messageId);
      if (!message) throw new AppError('not_found', { message: 'Message not found.' });
      // What an answer answers: a user message, or a tool result (AG-UI); an assistant message's parent.
      const answered = message.role !== 'assistant';
      const userMessage = answered ? message : message.parentId === null ? undefined : await repo.findMessage(db, input.threadId, message.parentId);
      if (!userMessage || (answered && message.status !== 'failed' && message.status !== 'cancelled')) {
        throw AppError.field('message_id', 'The message id field must be an assistant message, or a user message whose answer failed.');
      }
      const hash = () => requestHash('messages.regenerate', {
        threadId: input.threadId,
        messageId: input.messageId,
        ...(input.expected_state_version === undefined ? {} : { expectedStateVersion: input.expected_state_version }),
      });
      return answer(principal, { kind: 'regenerate', threadId: input.threadId, userMessage }, hash, hooks);
    },

    /**
     * Goes on from the results of the front-end tools the head's answer called (AG-UI): stores
     * them as `tool` messages after it and answers. Each result must answer one of those calls,
     * once; the caller checks the thread first (its 404).
     */
    async answerToolResults(principal: Principal, input: ToolResultsInput, hooks: AnswerHooks = {}): Promise<CreateMessageResult> {
      assertStateAcceptable(input.state, deps.stateLimits);
      const hash = () => requestHash('messages.toolResults', {
        threadId: input.threadId,
        results: input.results,
        state: input.state ?? null,
        ...(input.expected_state_version === undefined ? {} : { expectedStateVersion: input.expected_state_version }),
      });
      return answer(principal, { kind: 'tool', threadId: input.threadId, input }, hash, hooks);
    },

    /**
     * Cancels the answer to a pending user message, on this instance or (through the database) on
     * the one answering it, and waits until the outcome is stored. An answer that no instance runs
     * (its server died) is cancelled at once.
     */
    async cancel(principal: Principal, input: InputOf<typeof contracts.messages.cancel>) {
      await ownThread(db, principal.user.id, input.threadId);
      const message = await repo.findMessage(db, input.threadId, input.messageId);
      if (!message) throw new AppError('not_found', { message: 'Message not found.' });
      const notAnswering = () =>
        new AppError('conflict', { message: `The message is not being answered (its status is ${message.status}).` });
      if (message.role !== 'user' || message.status !== 'pending') throw notAnswering();
      const local = runs.get(message.id);
      if (local && !local.done) {
        local.cancel.abort();
        await local.settled;
      } else {
        if (!(await repo.requestCancel(db, input.threadId, message.id))) throw notAnswering();
        // The instance answering stops within a heartbeat; one that died stops beating, and the
        // answer is then cancelled here.
        const until = Date.now() + deps.leaseMs;
        while (Date.now() < until) {
          const orphan = { threadId: input.threadId, messageId: message.id, staleMs: HEARTBEAT_STALE_MS };
          if (await repo.cancelOrphaned(db, orphan)) break;
          const current = await repo.findMessage(db, input.threadId, message.id);
          if (current?.status !== 'pending') break;
          await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
        }
      }
      const user = await repo.findMessage(db, input.threadId, message.id);
      const reply = user?.status === 'pending' ? undefined : await repo.findReply(db, input.threadId, message.id);
      const [created, response] = await messageResources(db, input.threadId, reply ? [user!, reply] : [user!]);
      return { createdMessage: created!, responseMessage: response ?? null };
    },

    /** Answers in progress on this instance, to wait for at shutdown. */
    inProgress(): Promise<void>[] {
      return runs.active().map((run) => run.settled);
    },

    async list(principal: Principal, input: InputOf<typeof contracts.messages.list>) {
      const thread = await ownThread(db, principal.user.id, input.threadId);
      let scope: Parameters<typeof repo.listMessages>[3];
      if (input.view === 'all') scope = { all: true };
      else if (input.branch !== undefined) {
        if (!(await repo.findMessage(db, input.threadId, input.branch))) throw new AppError('not_found', { message: 'Message not found.' });
        scope = { branchEnd: input.branch };
      } else scope = { branchEnd: thread.headMessageId };
      // Each row comes with its sibling count: the page is one statement.
      const rows = await repo.listMessages(db, input.threadId, input, scope);
      return toPage(rows, input, (row) => toMessageResource(row, row.siblingCount));
    },

    async get(principal: Principal, input: InputOf<typeof contracts.messages.get>) {
      await ownThread(db, principal.user.id, input.threadId);
      const row = await repo.findMessage(db, input.threadId, input.messageId);
      if (!row) throw new AppError('not_found', { message: 'Message not found.' });
      return (await messageResources(db, input.threadId, [row]))[0]!;
    },

    async siblings(principal: Principal, input: InputOf<typeof contracts.messages.siblings>) {
      await ownThread(db, principal.user.id, input.threadId);
      const message = await repo.findMessage(db, input.threadId, input.messageId);
      if (!message) throw new AppError('not_found', { message: 'Message not found.' });
      const rows = await repo.listSiblings(db, message, input);
      const page = toPage(rows, input, (row) => row);
      return { ...page, data: await messageResources(db, input.threadId, page.data) };
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;
