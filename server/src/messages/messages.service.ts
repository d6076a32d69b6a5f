// The seed endpoint's rules. The order of checks is the spec's (422 → 404 → 409, after the guards'
// 401/429/403); then the user message is stored and committed, the AI answers with no transaction
// open, and the reply, the thread's new state and the freed lease are stored together. When the
// AI fails, the user message stays, `failed`, with the reason; the answer is a 502 or 504.
import type { JsonObject, Message, MessagePair } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../ai/history.js';
import { countFixedPromptTokens } from '../ai/prompt.js';
import { AiProviderError, type AiProvider, type ChatTurn } from '../ai/provider.js';
import type { Principal } from '../auth/auth.service.js';
import { AppError } from '../errors.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { requestHash } from '../idempotency/idempotency.service.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { toPage, type PageRequest } from '../pagination.js';
import type { StateLimits } from '../state/limits.js';
import { assertStateAcceptable, ownThread, threadNotFound } from '../threads/threads.service.js';
import * as repo from './messages.repo.js';

export function toMessageResource(row: repo.MessageRow): Message {
  return {
    id: row.id,
    thread_id: row.threadId,
    role: row.role,
    content: row.content,
    state: row.state ?? null,
    updated_state: row.updatedState ?? null,
    status: row.status,
    model: row.model,
    usage: row.usage ?? null,
    latency_ms: row.latencyMs,
    time_to_first_token_ms: row.firstTokenMs,
    context_truncated: row.contextTruncated,
    error: row.error,
    created_at: row.createdAt.toISOString(),
  };
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
  /** Forgets what is kept of these answers outside the database (their stream event logs). */
  forgetAnswers?: (userMessageIds: number[]) => Promise<void>;
}

export interface CreateMessageInput {
  threadId: number;
  content: string;
  state?: JsonObject | undefined;
}

/**
 * The one fingerprint of a message request, whichever route sends it (`/messages`,
 * `/messages/stream`, tRPC): only what the answer depends on, an absent state the same as null,
 * stream-only fields (Last-Event-ID) left out. The same key and body replay across routes.
 */
export function messageRequestHash(input: CreateMessageInput): string {
  return requestHash('messages.create', { threadId: input.threadId, content: input.content, state: input.state ?? null });
}

export interface AnswerHooks {
  idempotencyKey?: string | undefined;
  /** The user message is stored and committed. */
  onCreated?: (message: Message) => void;
  /** Streams the reply's text as it arrives. */
  onDelta?: (delta: string) => void;
  /** An explicit cancel: the answer stops and what it produced is kept, `cancelled`. */
  cancelSignal?: AbortSignal;
}

export interface CreateMessageResult {
  body: MessagePair;
  replayed: boolean;
}

/** How often a running answer beats its heartbeat, which also reads a cancel made elsewhere. */
const CANCEL_POLL_MS = 1000;

/**
 * An answer whose heartbeat is older than this has no instance behind it. A false alarm (an
 * instance stalled this long) only matters to a cancel, which then ends the answer at once
 * instead of storing its partial text.
 */
const HEARTBEAT_STALE_MS = 5 * CANCEL_POLL_MS;

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
class EndedElsewhere extends Error {
  readonly app = new AppError('upstream_error', { message: 'The answer was cancelled.' });
}
const endedElsewhere = () => new EndedElsewhere('the message was ended while it was answered');

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

export function createMessagesService(deps: MessagesServiceDeps) {
  const { db, ai } = deps;
  /** Answers running on this instance, by user message id. */
  const answering = new Map<number, { cancel: AbortController; settled: Promise<void> }>();

  /** The newest answered history that fits the budget, oldest first, and whether some was left out. */
  async function historyWindow(threadId: number, newMessage: repo.MessageRow, instructions: string | null, state: JsonObject | null) {
    let remaining =
      deps.contextTokens - countFixedPromptTokens(instructions, state) - (newMessage.tokenCount + MESSAGE_OVERHEAD_TOKENS);
    const turns: ChatTurn[] = [];
    let cursor = newMessage.id;
    for (;;) {
      const page = await repo.historyPage(db, threadId, cursor, HISTORY_PAGE);
      for (const row of page) {
        const cost = row.tokenCount + MESSAGE_OVERHEAD_TOKENS;
        if (cost > remaining) return { turns: turns.reverse(), truncated: true };
        turns.push({ role: row.role, content: row.content });
        remaining -= cost;
      }
      if (page.length < HISTORY_PAGE) return { turns: turns.reverse(), truncated: false };
      cursor = page[page.length - 1]!.id;
    }
  }

  return {
    async create(principal: Principal, input: CreateMessageInput, hooks: AnswerHooks = {}): Promise<CreateMessageResult> {
      const userId = principal.user.id;
      assertStateAcceptable(input.state, deps.stateLimits);
      // The 404 comes before an Idempotency-Key is claimed (its 409). Without a key, beginAnswer
      // tells a missing thread from a busy one itself, in that order, and a query is saved.
      if (hooks.idempotencyKey !== undefined) await ownThread(db, userId, input.threadId);

      const key = hooks.idempotencyKey;
      const claimed = key === undefined ? undefined : { userId, key };
      let retryMessageId: number | null = null;
      if (key !== undefined) {
        const claim = await deps.idempotency.claim(userId, key, messageRequestHash(input), input.threadId);
        if (claim.kind === 'replay') return { body: claim.body as MessagePair, replayed: true };
        retryMessageId = claim.messageId;
      }
      // A refused attempt gives its key back; a key that stands for a stored message (a retry
      // after a crash) stays tied to it, so the next retry answers that message, not a copy.
      const giveBackKey = async () => {
        if (!claimed) return;
        const giveBack = retryMessageId === null ? deps.idempotency.release : deps.idempotency.fail;
        await giveBack(claimed).catch(() => {});
      };

      let begun: Awaited<ReturnType<typeof repo.beginAnswer>>;
      try {
        begun = await repo.beginAnswer(db, {
          userId,
          threadId: input.threadId,
          leaseMs: deps.leaseMs,
          content: input.content,
          state: input.state ?? null,
          tokenCount: countTokens(input.content),
          retryMessageId,
        });
      } catch (error) {
        await giveBackKey();
        throw error;
      }
      if (begun === 'busy' || begun === 'missing' || begun === 'stale') {
        await giveBackKey();
        if (begun === 'busy') deps.metrics?.busyRefusal();
        throw begun === 'busy' ? busy() : begun === 'stale' ? stale() : threadNotFound();
      }
      const { thread, message: userMessage } = begun;
      // The events of the failed attempt are not this answer's: a resume must not replay them.
      if (retryMessageId !== null) await deps.forgetAnswers?.([userMessage.id]);
      if (claimed) await deps.idempotency.attachMessage(claimed, userMessage.id);
      hooks.onCreated?.(toMessageResource(userMessage));

      const state = input.state ?? thread.state ?? null;
      const inProgress = { cancel: new AbortController(), settled: Promise.resolve() };
      let settle = () => {};
      inProgress.settled = new Promise<void>((resolve) => (settle = resolve));
      answering.set(userMessage.id, inProgress);
      const deadline = AbortSignal.timeout(deps.answerTimeoutMs);
      const signals = [deadline, inProgress.cancel.signal, ...(hooks.cancelSignal ? [hooks.cancelSignal] : [])];
      if (deps.shutdownSignal) signals.push(deps.shutdownSignal);
      // A cancel made on another instance reaches this one through the database.
      const poll = setInterval(() => {
        repo.heartbeat(db, userMessage.id).then(
          ({ stop }) => stop && inProgress.cancel.abort(),
          (err: unknown) => deps.logger.warn({ err, messageId: userMessage.id }, 'answer heartbeat failed'),
        );
      }, CANCEL_POLL_MS);
      poll.unref();
      let partial = '';
      const started = performance.now();
      try {
        const history = await historyWindow(thread.id, userMessage, thread.instructions, state);
        const result = await ai.reply({
          instructions: thread.instructions,
          history: [...history.turns, { role: 'user', content: userMessage.content }],
          state,
          signal: AbortSignal.any(signals),
          ...(hooks.onDelta
            ? {
                onDelta: (delta: string) => {
                  partial += delta;
                  hooks.onDelta?.(delta);
                },
              }
            : {}),
        });
        const latencyMs = Math.round(performance.now() - started);
        deps.metrics?.answer({ model: result.model, outcome: 'completed' }, latencyMs / 1000);
        if (result.firstTokenMs !== null) deps.metrics?.firstToken(result.firstTokenMs / 1000);
        if (result.usage) deps.metrics?.tokens(result.usage.prompt_tokens, result.usage.completion_tokens);
        const stored = await repo.storeAnswer(db, {
          threadId: thread.id,
          userMessageId: userMessage.id,
          outcome: { status: 'completed', threadState: result.state },
          reply: {
            content: result.content,
            updatedState: result.state,
            model: result.model,
            usage: result.usage,
            latencyMs,
            firstTokenMs: result.firstTokenMs === null ? null : Math.round(result.firstTokenMs),
            contextTruncated: history.truncated,
            tokenCount: countTokens(result.content),
          },
        });
        if (!stored) throw endedElsewhere();
        const { user, reply } = stored;
        const body: MessagePair = { createdMessage: toMessageResource(user), responseMessage: toMessageResource(reply) };
        if (claimed) await deps.idempotency.complete(claimed, 201, body);
        return { body, replayed: false };
      } catch (error) {
        if (error instanceof EndedElsewhere) {
          if (claimed) await deps.idempotency.fail(claimed).catch(() => {});
          throw error.app;
        }
        const cancelled = inProgress.cancel.signal.aborted || Boolean(hooks.cancelSignal?.aborted);
        if (cancelled && !deadline.aborted && error instanceof AiProviderError && error.kind === 'cancelled') {
          const stored = await repo.storeAnswer(db, {
            threadId: thread.id,
            userMessageId: userMessage.id,
            outcome: { status: 'cancelled' },
            reply: {
              content: partial,
              updatedState: state,
              model: ai.model,
              latencyMs: Math.round(performance.now() - started),
              tokenCount: countTokens(partial),
            },
          });
          if (!stored) {
            if (claimed) await deps.idempotency.fail(claimed).catch(() => {});
            throw endedElsewhere().app;
          }
          const { user, reply } = stored;
          deps.metrics?.answer({ model: ai.model, outcome: 'cancelled' }, (performance.now() - started) / 1000);
          const body: MessagePair = { createdMessage: toMessageResource(user), responseMessage: toMessageResource(reply) };
          if (claimed) await deps.idempotency.complete(claimed, 201, body);
          return { body, replayed: false };
        }
        const failure = failureOf(error, deadline.aborted, Boolean(deps.shutdownSignal?.aborted));
        deps.metrics?.answer({ model: ai.model, outcome: 'failed' }, (performance.now() - started) / 1000);
        if (!(error instanceof AiProviderError)) deps.logger.error({ err: error, threadId: thread.id }, 'answer failed');
        await repo.failAnswer(db, {
          threadId: thread.id,
          userMessageId: userMessage.id,
          status: failure.status,
          error: failure.reason,
        });
        if (claimed) await deps.idempotency.fail(claimed).catch(() => {});
        throw failure.app;
      } finally {
        clearInterval(poll);
        answering.delete(userMessage.id);
        settle();
      }
    },

    /**
     * Cancels the answer to a pending user message, on this instance or (through the database) on
     * the one answering it, and waits until the outcome is stored. An answer that no instance runs
     * (its server died) is cancelled at once.
     */
    async cancel(principal: Principal, input: { threadId: number; messageId: number }) {
      await ownThread(db, principal.user.id, input.threadId);
      const message = await repo.findMessage(db, input.threadId, input.messageId);
      if (!message) throw new AppError('not_found', { message: 'Message not found.' });
      const notAnswering = () =>
        new AppError('conflict', { message: `The message is not being answered (its status is ${message.status}).` });
      if (message.role !== 'user' || message.status !== 'pending') throw notAnswering();
      const local = answering.get(message.id);
      if (local) {
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
          await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS / 4));
        }
      }
      const user = await repo.findMessage(db, input.threadId, message.id);
      const reply = user?.status === 'pending' ? undefined : await repo.findReply(db, input.threadId, message.id);
      return { createdMessage: toMessageResource(user!), responseMessage: reply ? toMessageResource(reply) : null };
    },

    /** Answers in progress on this instance, to wait for at shutdown. */
    inProgress(): Promise<void>[] {
      return [...answering.values()].map((entry) => entry.settled);
    },

    async list(principal: Principal, input: PageRequest & { threadId: number }) {
      await ownThread(db, principal.user.id, input.threadId);
      const rows = await repo.listMessages(db, input.threadId, input);
      return toPage(rows, input, toMessageResource);
    },

    async get(principal: Principal, input: { threadId: number; messageId: number }) {
      await ownThread(db, principal.user.id, input.threadId);
      const row = await repo.findMessage(db, input.threadId, input.messageId);
      if (!row) throw new AppError('not_found', { message: 'Message not found.' });
      return toMessageResource(row);
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;
