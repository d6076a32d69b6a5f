// /ai/threads/{thread-id}/messages: the seed endpoint (create), its streamed form, cancel, list and
// retrieve. create and stream send one Idempotency-Key per call, reused by every retry and
// reconnect, so the server answers the same user message instead of storing a second one.
import type { APIPromise } from '../core/api-promise.js';
import type { PagePromise } from '../core/pagination.js';
import type { RequestOptions } from '../core/request-options.js';
import { MessageStream } from '../core/streaming.js';
import { uuid4 } from '../core/utils.js';
import type {
  CancelResult,
  Message,
  MessageCreateParams,
  MessageListParams,
  MessagePair,
  MessageStreamParams,
} from '../types.js';
import { APIResource, path } from './resource.js';

export class Messages extends APIResource {
  /**
   * Posts a message and waits for the AI's answer: `{createdMessage, responseMessage}`, where
   * `responseMessage.updated_state` is the state after the AI's changes.
   */
  create(threadId: number, body: MessageCreateParams, options?: RequestOptions): APIPromise<MessagePair> {
    return this._client.post(path`/ai/threads/${threadId}/messages`, body, options);
  }

  /**
   * The same as create, answered as server-sent events. The request is sent when you start reading:
   * `for await (const event of stream)`, or `await stream.finalMessage()`.
   */
  stream(threadId: number, body: MessageStreamParams, options: RequestOptions = {}): MessageStream {
    const idempotencyKey = options.idempotencyKey ?? uuid4();
    const request = { method: 'POST' as const, path: path`/ai/threads/${threadId}/messages/stream`, body, accept: 'text/event-stream' };
    return new MessageStream(
      (lastEventId, signal) =>
        this._client.open(
          request,
          { ...options, signal, headers: { ...options.headers, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } },
          idempotencyKey,
        ),
      {
        maxRetries: options.maxRetries ?? this._client.maxRetries,
        timeout: options.timeout ?? this._client.timeout,
        signal: options.signal,
      },
    );
  }

  /** Stops an answer in progress; what it produced so far is kept, `cancelled`. */
  cancel(threadId: number, messageId: number, options?: RequestOptions): APIPromise<CancelResult> {
    return this._client.post(path`/ai/threads/${threadId}/messages/${messageId}/cancel`, undefined, options);
  }

  /** The thread's messages, oldest first; iterate the result for every page. */
  list(threadId: number, query: MessageListParams = {}, options?: RequestOptions): PagePromise<Message> {
    return this._client.getAPIList<Message>(path`/ai/threads/${threadId}/messages`, { ...query }, options);
  }

  retrieve(threadId: number, messageId: number, options?: RequestOptions): APIPromise<Message> {
    return this._client.get(path`/ai/threads/${threadId}/messages/${messageId}`, undefined, options);
  }
}
