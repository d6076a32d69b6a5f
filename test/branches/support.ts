// Helpers for the branch suites (SPEC.md part 2, "Branches: edit and regenerate"): the same calls
// on both faces (REST and raw tRPC), their answers made alike (a tRPC success is its
// `result.data`), one error check for both, and the regenerate stream over REST.
import { expect } from 'vitest';
import type { FakeOpenAI } from '../fake-openai/server.js';
import type { ApiResponse, TestApp } from '../support/harness.js';
import { expectTrpcError, trpc } from '../support/helpers.js';
import { SseReader } from '../support/sse.js';
import { sentMessages } from '../support/threads.js';

export type Face = 'rest' | 'trpc';
export const FACES: Face[] = ['rest', 'trpc'];

export const PARENT_ERROR = 'The parent id field must be the id of an assistant message of this thread.';
export const REGENERATE_ERROR = 'The message id field must be an assistant message, or a user message whose answer failed.';
export const HEAD_ERROR = 'The message id field must be the id of a message of this thread.';
export const BUSY = 'The thread is still answering an earlier message; retry when it is done.';
export const MISMATCH = 'The Idempotency-Key was already used with a different request body.';

export interface Answer {
  status: number;
  headers: Headers;
  /** REST: the body; tRPC: `result.data` on success, the raw error body otherwise. */
  body: any;
  raw: ApiResponse;
}

function query(values: Record<string, unknown>): string {
  const entries = Object.entries(values).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}

/** The branch operations on one face, as one user. */
export function client(app: TestApp, face: Face, token: string) {
  const rest = face === 'rest';
  const answer = async (pending: Promise<ApiResponse>): Promise<Answer> => {
    const res = await pending;
    const ok = res.status >= 200 && res.status < 300;
    return { status: res.status, headers: res.headers, body: !rest && ok ? res.body.result.data : res.body, raw: res };
  };
  return {
    face,
    send: (threadId: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      answer(
        rest
          ? app.api('POST', `/ai/threads/${threadId}/messages`, { token, body, headers })
          : trpc(app, 'mutation', 'messages.create', { threadId, ...body }, { token, headers }),
      ),
    regenerate: (threadId: number, messageId: number, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      answer(
        rest
          ? app.api('POST', `/ai/threads/${threadId}/messages/${messageId}/regenerate`, { token, body, headers })
          : trpc(app, 'mutation', 'messages.regenerate', { threadId, messageId, ...body }, { token, headers }),
      ),
    list: (threadId: number, options: Record<string, unknown> = {}) =>
      answer(
        rest
          ? app.api('GET', `/ai/threads/${threadId}/messages${query(options)}`, { token })
          : trpc(app, 'query', 'messages.list', { threadId, ...options }, { token }),
      ),
    siblings: (threadId: number, messageId: number, options: Record<string, unknown> = {}) =>
      answer(
        rest
          ? app.api('GET', `/ai/threads/${threadId}/messages/${messageId}/siblings${query(options)}`, { token })
          : trpc(app, 'query', 'messages.siblings', { threadId, messageId, ...options }, { token }),
      ),
    setHead: (threadId: number, messageId: number) =>
      answer(
        rest
          ? app.api('POST', `/ai/threads/${threadId}/head`, { token, body: { message_id: messageId } })
          : trpc(app, 'mutation', 'threads.setHead', { threadId, message_id: messageId }, { token }),
      ),
    thread: (threadId: number) =>
      answer(rest ? app.api('GET', `/ai/threads/${threadId}`, { token }) : trpc(app, 'query', 'threads.get', { threadId }, { token })),
    message: (threadId: number, messageId: number) =>
      answer(
        rest
          ? app.api('GET', `/ai/threads/${threadId}/messages/${messageId}`, { token })
          : trpc(app, 'query', 'messages.get', { threadId, messageId }, { token }),
      ),
  };
}

type Client = ReturnType<typeof client>;

/** A success with this status (the same on both faces), and the answer's body. */
export function ok(res: Answer, _face: Face, status = 200): any {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** An error answer on either face: its status, message and (422) field errors. */
export function expectError(res: Answer, face: Face, status: number, message: string, errors?: Record<string, string[]>) {
  if (face === 'trpc') return expectTrpcError(res.raw, status, message, errors);
  expect({ status: res.status, body: res.body }).toStrictEqual({ status, body: errors ? { message, errors } : { message } });
}

/** The conversation a model call was sent, system messages left out, as `role: content` lines. */
export function turnsSent(fake: FakeOpenAI, index: number): string[] {
  return sentMessages(fake.requests[index])
    .filter((m) => m.role !== 'system')
    .map((m) => `${m.role}: ${String(m.content)}`);
}

/** [role, content] of each message, for short assertions. */
export const pairs = (messages: Array<Record<string, any>>) => messages.map((m) => [m.role, m.content]);

/** POST .../messages/{id}/regenerate/stream over REST: the raw response, not yet read. */
export function postRegenerateStream(
  app: TestApp,
  threadId: number,
  messageId: number,
  request: { token: string; body?: unknown; lastEventId?: string; headers?: Record<string, string> },
  controller = new AbortController(),
): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'content-type': 'application/json', ...request.headers };
  headers['authorization'] = `Bearer ${request.token}`;
  if (request.lastEventId !== undefined) headers['last-event-id'] = request.lastEventId;
  return fetch(`${app.url}/api/v1/ai/threads/${threadId}/messages/${messageId}/regenerate/stream`, {
    method: 'POST',
    headers,
    body: JSON.stringify(request.body ?? {}),
    signal: controller.signal,
  });
}

/** Opens a regenerate stream that must be accepted (200, text/event-stream). */
export async function openRegenerateStream(
  app: TestApp,
  threadId: number,
  messageId: number,
  request: { token: string; body?: unknown; lastEventId?: string; headers?: Record<string, string> },
): Promise<SseReader> {
  const controller = new AbortController();
  const response = await postRegenerateStream(app, threadId, messageId, request, controller);
  if (response.status !== 200) throw new Error(`the stream was refused: ${response.status} ${await response.text()}`);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new SseReader(response, controller);
}
