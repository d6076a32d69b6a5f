// Options every method takes as its last argument, overriding the client's for one call.

export interface RequestOptions {
  /** Retries after a 409 busy, 429, 5xx or connection error (default: the client's, 2). */
  maxRetries?: number;
  /** Milliseconds per attempt (for streams: the longest silence between two chunks). */
  timeout?: number;
  /** Aborts the call (and its retries); it then rejects with APIUserAbortError. */
  signal?: AbortSignal;
  /**
   * The Idempotency-Key of a POST. One is generated per call and reused on every retry, so a
   * retry never creates a second thread or message; set it to make your own retries safe too.
   */
  idempotencyKey?: string;
  /**
   * The state version you last saw, sent as `If-Match: "<version>"` (`'*'`: any version): the
   * precondition of `threads.state.patch`, `threads.state.revert`, `messages.proposal.accept`, and
   * optionally of `messages.create` and `messages.stream`. The same as `expected_version` (or
   * `expected_state_version`) in the body; a stale one throws PreconditionFailedError.
   */
  ifMatch?: number | '*';
  /** Extra headers; `null` removes one the client would send. */
  headers?: Record<string, string | null | undefined>;
}
