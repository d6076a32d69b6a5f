// Streaming an answer: the same create as the seed endpoint, its events logged in the AnswerRun it
// runs in, so that any number of readers (the first client, a reconnecting one) can follow it. Refusals
// (404, 409, 422) happen before `open` resolves, so each face can answer them as plain errors.
import type { contracts, InputOf } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import type { Principal } from '../auth/auth.service.js';
import { AppError, appErrorOf } from '../errors.js';
import { ownThread } from '../threads/threads.service.js';
import { AnswerRun, type AnswerRuns, type LoggedEvent } from './answer-runs.js';
import { eventId, parseEventId } from './event-id.js';
import * as repo from './messages.repo.js';
import type { SharedEventLog } from './shared-log.js';
import type { Precondition } from '../state/precondition.js';
import { messageResources, type AnswerHooks, type CreateMessageResult, type MessagesService } from './messages.service.js';

/** How often a reader polls the database for an answer running on another instance. */
const REMOTE_POLL_MS = 500;

export interface StreamsServiceDeps {
  db: Database;
  messages: MessagesService;
  runs: AnswerRuns;
  leaseMs: number;
  /** Events shared across instances (Redis), when configured. */
  sharedLog?: SharedEventLog | undefined;
}

/**
 * The one rule for "resume or new": a stream call resumes when it names a non-empty `lastEventId`;
 * anything else (no id, an empty one) creates a message. The rate limiter asks it of the raw input
 * before validation, `open` of the parsed one; the contract does not transform the field, so both
 * get the same answer, and a call that creates always counts against the message budget.
 */
export function resumeIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const id = (input as { lastEventId?: unknown }).lastEventId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

async function* once(events: LoggedEvent[]): AsyncGenerator<LoggedEvent> {
  yield* events;
}

export function createStreamsService(deps: StreamsServiceDeps) {
  const { db, messages, runs } = deps;

  /** The final event of an answer that is no longer running here, read from the database. */
  async function* fromDatabase(threadId: number, messageId: number, signal?: AbortSignal): AsyncGenerator<LoggedEvent> {
    const until = Date.now() + deps.leaseMs;
    for (;;) {
      const user = await repo.findMessage(db, threadId, messageId);
      if (!user) return;
      if (user.status !== 'pending') {
        const reply = await repo.findReply(db, threadId, messageId);
        const id = eventId(messageId, 'done');
        if (reply) {
          const [createdMessage, responseMessage] = await messageResources(db, threadId, [user, reply]);
          yield {
            id,
            event: {
              event: 'response.completed',
              data: { createdMessage: createdMessage!, responseMessage: responseMessage! },
            },
          };
        } else {
          yield { id, event: { event: 'error', data: { message: user.error ?? 'The answer failed.', status: 502 } } };
        }
        return;
      }
      if (signal?.aborted || Date.now() > until) return;
      await new Promise((resolve) => setTimeout(resolve, REMOTE_POLL_MS));
    }
  }

  async function resume(principal: Principal, threadId: number, lastEventId: string, signal?: AbortSignal) {
    const named = parseEventId(lastEventId);
    if (!named) throw AppError.field('last_event_id', 'The Last-Event-ID must be an event id this stream sent.');
    const { messageId, seq } = named;
    await ownThread(db, principal.user.id, threadId);
    const message = await repo.findMessage(db, threadId, messageId);
    if (!message || message.role !== 'user') throw new AppError('not_found', { message: 'No stream has this event id.' });
    if (seq === 'done') return once([]);
    const run = runs.get(messageId);
    // A failed attempt's log, kept here while a retry answered the message on another instance,
    // is not what is stored: the stored outcome is.
    const superseded =
      run?.done && run.events.at(-1)?.event.event === 'error' && (message.status === 'pending' || message.status === 'completed');
    if (run && !superseded) return run.read(seq + 1, signal);
    const shared = await deps.sharedLog?.read(messageId, seq, signal);
    if (!shared) return fromDatabase(threadId, messageId, signal);
    return (async function* () {
      let ended = false;
      for await (const logged of shared) {
        ended ||= logged.event.event === 'response.completed' || logged.event.event === 'error';
        yield logged;
      }
      // The shared log broke off (Redis went away): the stored outcome closes the stream.
      if (!ended && !signal?.aborted) yield* fromDatabase(threadId, messageId, signal);
    })();
  }

  return {
    /**
     * Starts an answer (or, with `lastEventId`, resumes following one) and resolves with its events
     * once it is accepted; rejects with the refusal otherwise.
     */
    open(principal: Principal, input: InputOf<typeof contracts.messages.stream>, options: OpenOptions = {}) {
      return follow(principal, input, options, (hooks) =>
        messages.create(
          principal,
          {
            threadId: input.threadId,
            content: input.content,
            state: input.state,
            parent_id: input.parent_id,
            expected_state_version: input.expected_state_version,
          },
          hooks,
        ),
      );
    },

    /** The same for a regenerate. */
    openRegenerate(principal: Principal, input: InputOf<typeof contracts.messages.regenerateStream>, options: OpenOptions = {}) {
      return follow(principal, input, options, (hooks) =>
        messages.regenerate(
          principal,
          { threadId: input.threadId, messageId: input.messageId, expected_state_version: input.expected_state_version },
          hooks,
        ),
      );
    },
  };

  /** Runs `start` with hooks that log its events, or resumes following an answer already running. */
  async function follow(
    principal: Principal,
    input: { threadId: number; lastEventId?: string | undefined },
    options: OpenOptions,
    start: (hooks: AnswerHooks) => Promise<CreateMessageResult>,
  ): Promise<AsyncIterable<LoggedEvent>> {
    const resumeId = resumeIdOf(input);
    if (resumeId !== undefined) return resume(principal, input.threadId, resumeId, options.signal);

    const run = new AnswerRun();
    let accepted!: () => void;
    const started = new Promise<void>((resolve) => (accepted = resolve));
    const work = start({
      idempotencyKey: options.idempotencyKey,
      precondition: options.precondition,
      run,
      onCreated: (message) => {
        if (deps.sharedLog) run.onPush = (logged) => deps.sharedLog?.append(message.id, logged);
        run.push({ event: 'message.created', data: message });
        accepted();
      },
      onDelta: (delta) => run.push({ event: 'response.delta', data: { delta } }),
      onStateDelta: (delta) => run.push({ event: 'state.delta', data: delta }),
    }).then(
      (result) => {
        if (result.replayed) {
          run.messageId = result.body.createdMessage.id;
          run.push({ event: 'message.created', data: result.body.createdMessage });
        }
        run.push({ event: 'response.completed', data: result.body });
        run.finish();
      },
      (error: unknown) => {
        if (run.events.length === 0) {
          run.finish();
          throw error;
        }
        const app = appErrorOf(error);
        run.push({ event: 'error', data: { message: app.message, status: app.status } });
        run.finish();
      },
    );
    await Promise.race([started, work]);
    return run.read(0, options.signal);
  }
}

export interface OpenOptions {
  idempotencyKey?: string | undefined;
  signal?: AbortSignal;
  precondition?: Precondition | undefined;
}

export type StreamsService = ReturnType<typeof createStreamsService>;
