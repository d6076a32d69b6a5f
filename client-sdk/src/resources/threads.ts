// /ai/threads: your AI threads. create sends an Idempotency-Key, so its retries never make two.
import type { APIPromise } from '../core/api-promise.js';
import type { PagePromise } from '../core/pagination.js';
import type { RequestOptions } from '../core/request-options.js';
import type { Thread, ThreadCreateParams, ThreadListParams, ThreadUpdateParams } from '../types.js';
import { APIResource, path } from './resource.js';

export class Threads extends APIResource {
  create(body: ThreadCreateParams = {}, options?: RequestOptions): APIPromise<Thread> {
    return this._client.post('/ai/threads', body, options);
  }

  /** Your threads, newest first; iterate the result for every page. */
  list(query: ThreadListParams = {}, options?: RequestOptions): PagePromise<Thread> {
    return this._client.getAPIList<Thread>('/ai/threads', { ...query }, options);
  }

  retrieve(threadId: number, options?: RequestOptions): APIPromise<Thread> {
    return this._client.get(path`/ai/threads/${threadId}`, undefined, options);
  }

  /** Title, instructions or metadata (replaced as a whole); `null` clears title or instructions. */
  update(threadId: number, body: ThreadUpdateParams, options?: RequestOptions): APIPromise<Thread> {
    return this._client.patch(path`/ai/threads/${threadId}`, body, options);
  }

  /** Deletes the thread and its messages (204); 409 while it is answering. */
  delete(threadId: number, options?: RequestOptions): APIPromise<void> {
    return this._client.delete(path`/ai/threads/${threadId}`, options);
  }
}
