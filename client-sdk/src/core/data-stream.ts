// DataStream: a streamed protocol answer (the AI SDK's UI message stream, AG-UI) as an async iterable
// of the JSON each `data:` line holds, read from the fetch body with the SSE parser, up to a
// `data: [DONE]` line or the end of the body. Unlike MessageStream it does not reconnect: these
// protocols carry no event ids to resume after, and the request is one answer (a refusal before
// the first part is retried by the client like any call, with the same Idempotency-Key).
import type { OpenResponse } from '../client.js';
import { APIConnectionError, APIUserAbortError, AiThreadsError } from './error.js';
import { SSEStreamDecoder } from './sse.js';
import { linkedController, readWithin } from './utils.js';

/** The line that ends a UI message stream (AG-UI streams simply end). */
const DONE = '[DONE]';

export class DataStream<Part> implements AsyncIterable<Part> {
  /** Aborts the stream; iteration then throws APIUserAbortError. The answer itself goes on. */
  readonly controller: AbortController;
  /** The `X-Request-Id` of the answer. */
  requestId: string | null = null;

  readonly #open: (signal: AbortSignal) => Promise<OpenResponse>;
  readonly #timeout: number;
  #iterating = false;

  /** `open` sends the request (retrying refusals as every call); `timeout` is the longest silence. */
  constructor(open: (signal: AbortSignal) => Promise<OpenResponse>, options: { timeout: number; signal?: AbortSignal | undefined }) {
    this.#open = open;
    this.#timeout = options.timeout;
    this.controller = linkedController(options.signal).controller;
  }

  abort(): void {
    this.controller.abort();
  }

  [Symbol.asyncIterator](): AsyncGenerator<Part> {
    if (this.#iterating) throw new AiThreadsError('A DataStream can be read only once.');
    this.#iterating = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<Part> {
    const signal = this.controller.signal;
    const open = await this.#open(signal);
    this.requestId = open.requestId;
    open.clearTimeout();
    const reader = open.response.body?.getReader();
    const decoder = new SSEStreamDecoder();
    try {
      while (reader) {
        const chunk = await readWithin(reader, open.controller, this.#timeout);
        for (const event of chunk.done ? decoder.end() : decoder.push(chunk.value)) {
          if (event.data === DONE) return;
          yield parse<Part>(event.data);
        }
        if (chunk.done) return;
      }
    } catch (error) {
      if (signal.aborted) throw new APIUserAbortError();
      if (error instanceof AiThreadsError) throw error;
      throw new APIConnectionError({ message: 'The stream was interrupted.', cause: error });
    } finally {
      reader?.cancel().catch(() => {});
      open.release();
    }
  }

}

function parse<Part>(data: string): Part {
  try {
    return JSON.parse(data) as Part;
  } catch (cause) {
    throw new AiThreadsError(`Could not parse a data line of the stream: ${data}`, { cause });
  }
}
