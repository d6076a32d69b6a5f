// Helpers for the SDK suites: a client for a test app and user, and a fetch that records every
// attempt the SDK makes (method, path, headers, status) and can act when an answer arrives. Edit
// when the SDK suites need another shared step.
import { AiThreads, type ClientOptions } from '../../client-sdk/src/index.js';
import type { TestApp, TestUser } from '../support/harness.js';

export interface Attempt {
  method: string;
  path: string;
  headers: Headers;
  status: number;
}

export interface RecordingFetch {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  attempts: Attempt[];
}

/**
 * A fetch that records every attempt; `onResponse` may act on an answer (open a gate) or replace
 * it (cut its body short).
 */
export function recordingFetch(
  onResponse?: (attempt: Attempt, response: Response) => Response | void | Promise<Response | void>,
): RecordingFetch {
  const attempts: Attempt[] = [];
  return {
    attempts,
    async fetch(input, init) {
      const response = await fetch(input, init);
      const url = new URL(input);
      const attempt = { method: init.method ?? 'GET', path: url.pathname + url.search, headers: new Headers(init.headers), status: response.status };
      attempts.push(attempt);
      return (await onResponse?.(attempt, response)) ?? response;
    },
  };
}

/** An SDK client for this app, authenticated as `user` (or anonymous). */
export function sdk(app: TestApp, user?: TestUser | string, options: ClientOptions = {}): AiThreads {
  const apiKey = typeof user === 'string' ? user : (user?.token ?? null);
  return new AiThreads({ baseURL: app.url, apiKey, ...options });
}

/** The status of every attempt, in order. */
export function statuses(recording: RecordingFetch): number[] {
  return recording.attempts.map((attempt) => attempt.status);
}

/** The distinct Idempotency-Keys the attempts carried. */
export function idempotencyKeys(recording: RecordingFetch): Array<string | null> {
  return [...new Set(recording.attempts.map((attempt) => attempt.headers.get('idempotency-key')))];
}
