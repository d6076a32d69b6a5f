// MessageStream: a streamed answer (POST .../messages/stream) as an async iterable of typed events,
// read from the fetch body with the SSE parser. When the connection drops (or stays silent for
// `timeout`) before `response.completed` or `error`, it reconnects with `Last-Event-ID` and the same
// body and Idempotency-Key, up to `maxRetries` times; the server sends only what was missed.
import type { MessagePair, MessageStreamEvent, MessageStreamEventName } from '../types.js';
import { APIConnectionError, APIError, APIUserAbortError, AiThreadsError } from './error.js';
import type { OpenResponse } from '../client.js';
import { SSEStreamDecoder, type ServerSentEvent } from './sse.js';
import { backoffMs, linkedController, readWithin, sleep } from './utils.js';

// Every event the contracts name: one they add is a compile error here until it is listed.
const EVENT_NAMES = new Set<string>(
  Object.keys({
    'message.created': true,
    'response.delta': true,
    'state.delta': true,
    'response.completed': true,
    error: true,
  } satisfies Record<MessageStreamEventName, true>),
);

export interface MessageStreamOptions {
  maxRetries: number;
  timeout: number;
  signal?: AbortSignal | undefined;
}

/** Opens (or, with an event id, resumes) the stream; rejects with the typed error of a refusal. */
export type StreamOpener = (lastEventId: string | null, signal: AbortSignal) => Promise<OpenResponse>;

function toStreamEvent(sse: ServerSentEvent): MessageStreamEvent | null {
  if (!EVENT_NAMES.has(sse.event)) return null;
  let data: unknown;
  try {
    data = JSON.parse(sse.data);
  } catch (cause) {
    throw new AiThreadsError(`Could not parse the data of a "${sse.event}" event: ${sse.data}`, { cause });
  }
  return { event: sse.event, id: sse.id ?? '', data } as MessageStreamEvent;
}

export class MessageStream implements AsyncIterable<MessageStreamEvent> {
  /** Aborts the stream; iteration then throws APIUserAbortError. The answer itself goes on (see `cancel`). */
  readonly controller: AbortController;
  /** The id of the last event received: what a reconnect sends as `Last-Event-ID`. */
  lastEventId: string | null = null;
  /** The `X-Request-Id` of the latest connection. */
  requestId: string | null = null;
  /** How many times the stream reconnected. */
  reconnects = 0;

  readonly #open: StreamOpener;
  readonly #options: MessageStreamOptions;
  #iterating = false;
  readonly #final: Promise<MessagePair>;
  #settle!: { resolve(pair: MessagePair): void; reject(error: unknown): void };
  #settled = false;

  constructor(open: StreamOpener, options: MessageStreamOptions) {
    this.#open = open;
    this.#options = options;
    this.controller = linkedController(options.signal).controller;
    this.#final = new Promise<MessagePair>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#final.catch(() => {});
  }

  abort(): void {
    this.controller.abort();
  }

  /**
   * `{createdMessage, responseMessage}` once `response.completed` arrives; rejects with the typed
   * APIError of an `error` event (e.g. BadGatewayError), or the error that ended the stream.
   * Reads the stream itself unless you are already iterating it.
   */
  async finalMessage(): Promise<MessagePair> {
    if (!this.#iterating) {
      for await (const _event of this) {
        // Reading to the end settles the final pair.
      }
    }
    return this.#final;
  }

  [Symbol.asyncIterator](): AsyncGenerator<MessageStreamEvent> {
    if (this.#iterating) throw new AiThreadsError('A MessageStream can be read only once.');
    this.#iterating = true;
    return this.#run();
  }

  #finish(outcome: { pair: MessagePair } | { error: unknown }) {
    if (this.#settled) return;
    this.#settled = true;
    if ('pair' in outcome) this.#settle.resolve(outcome.pair);
    else this.#settle.reject(outcome.error);
  }

  async *#run(): AsyncGenerator<MessageStreamEvent> {
    const signal = this.controller.signal;
    try {
      for (;;) {
        const open = await this.#open(this.lastEventId, signal);
        this.requestId = open.requestId;
        open.clearTimeout();
        const reader = open.response.body?.getReader();
        const decoder = new SSEStreamDecoder();
        let dropped: unknown = new APIConnectionError({ message: 'The stream ended before the answer was complete.' });
        try {
          while (reader) {
            const chunk = await readWithin(reader, open.controller, this.#options.timeout);
            const events = chunk.done ? decoder.end() : decoder.push(chunk.value);
            for (const sse of events) {
              const event = toStreamEvent(sse);
              if (!event) continue;
              this.lastEventId = sse.id;
              yield event;
              if (event.event === 'response.completed') {
                this.#finish({ pair: event.data });
                return;
              }
              if (event.event === 'error') {
                this.#finish({ error: APIError.generate(event.data.status, event.data, open.response.headers) });
                return;
              }
            }
            if (chunk.done) break;
          }
        } catch (error) {
          if (signal.aborted) throw new APIUserAbortError();
          if (error instanceof AiThreadsError && !(error instanceof APIConnectionError)) throw error;
          dropped = error instanceof APIConnectionError ? error : new APIConnectionError({ message: 'The stream was interrupted.', cause: error });
        } finally {
          reader?.cancel().catch(() => {});
          open.release();
        }
        if (this.reconnects >= this.#options.maxRetries) throw dropped;
        try {
          await sleep(backoffMs(this.reconnects), signal);
        } catch {
          throw new APIUserAbortError();
        }
        this.reconnects += 1;
      }
    } catch (error) {
      this.#finish({ error });
      throw error;
    } finally {
      this.#finish({ error: new AiThreadsError('The stream was closed before the answer was complete.') });
    }
  }

}
