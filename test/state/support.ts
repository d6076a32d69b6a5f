// Helpers for the state suites (test/state/): the state operations on either face, answered in one
// shape so that a test runs unchanged on REST and tRPC, the revisions a thread has in the database,
// and the "a refused write changes nothing" check (no row anywhere, the state and version as they
// were). Edit when those suites need a new shared step.
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { ApiResponse, TestApp, TestUser } from '../support/harness.js';
import { query, trpc } from '../support/helpers.js';
import { storedCounts } from '../support/threads.js';

export type Face = 'rest' | 'trpc';
export const FACES: Face[] = ['rest', 'trpc'];

/** An answer of either face: its status, the resource or the seed's error body, and the ETag (REST). */
export interface Answer {
  status: number;
  body: any;
  etag: string | null;
  /** The raw REST answer (headers), when the face is REST. */
  rest?: ApiResponse;
}

export const REQUIRED = { message: "This request must be conditional: send If-Match with the state's ETag." };

/** The seed's error body from a tRPC error: message, the details (current_version), field errors. */
function fromTrpc(res: ApiResponse): Answer {
  if (res.status < 400) return { status: res.status, body: res.body.result.data, etag: null };
  const { message, data } = res.body.error;
  const body: Record<string, unknown> = { message };
  if (data.current_version !== undefined) body['current_version'] = data.current_version;
  if (data.errors !== undefined) body['errors'] = data.errors;
  expect(data.httpStatus).toBe(res.status);
  return { status: res.status, body, etag: null };
}

function fromRest(res: ApiResponse): Answer {
  return { status: res.status, body: res.body, etag: res.headers.get('etag'), rest: res };
}

export interface CallOptions {
  /** REST only: request headers (If-Match, cookies). */
  headers?: Record<string, string>;
}

/**
 * The state operations of one face. Bodies are the REST bodies; the tRPC input is the same with the
 * thread id (and version) added, as the contract has it.
 */
export function stateApi(app: TestApp, face: Face, token: string) {
  const base = (threadId: number | string) => `/ai/threads/${threadId}/state`;
  async function call(
    method: 'GET' | 'PATCH' | 'POST',
    path: string,
    procedure: string,
    input: Record<string, unknown>,
    body: unknown,
    options: CallOptions = {},
  ): Promise<Answer> {
    if (face === 'rest') return fromRest(await app.api(method, path, { token, body, headers: options.headers }));
    return fromTrpc(await trpc(app, method === 'GET' ? 'query' : 'mutation', procedure, input, { token, headers: options.headers }));
  }
  return {
    get: (threadId: number | string) => call('GET', base(threadId), 'threads.state.get', { threadId }, undefined),
    patch: (threadId: number | string, body: Record<string, unknown>, options?: CallOptions) =>
      call('PATCH', base(threadId), 'threads.state.patch', { threadId, ...body }, body, options),
    revert: (threadId: number | string, body: Record<string, unknown>, options?: CallOptions) =>
      call('POST', `${base(threadId)}/revert`, 'threads.state.revert', { threadId, ...body }, body, options),
    revisions: (threadId: number | string, page: Record<string, number> = {}) => {
      const search = new URLSearchParams(Object.entries(page).map(([k, v]) => [k, String(v)])).toString();
      return call('GET', `${base(threadId)}/revisions${search ? `?${search}` : ''}`, 'threads.state.revisions.list', { threadId, ...page }, undefined);
    },
    revision: (threadId: number | string, version: number | string) =>
      call('GET', `${base(threadId)}/revisions/${version}`, 'threads.state.revisions.get', { threadId, version }, undefined),
  };
}

/** POST /ai/threads (REST) and its id. */
export async function createThread(app: TestApp, user: TestUser, body: Record<string, unknown> = {}): Promise<number> {
  const res = await app.api('POST', '/ai/threads', { token: user.token, body });
  expect(res.status, res.text).toBe(201);
  return res.body.id as number;
}

/** A thread's revisions as stored, oldest first. */
export async function revisionRows(app: TestApp, threadId: number) {
  return query<{ version: number; source: string; message_id: number | null; patch: unknown; state: unknown }>(
    app,
    sql`select version, source, message_id, patch, state from state_revisions where thread_id = ${threadId} order by version`,
  );
}

/** The state and version of a thread as stored. */
export async function storedState(app: TestApp, threadId: number) {
  const [row] = await query<{ state: unknown; state_version: number }>(
    app,
    sql`select state, state_version from threads where id = ${threadId}`,
  );
  return { state: row?.state ?? null, version: Number(row?.state_version) };
}

/** Runs a request that must be refused: no row added anywhere, and the thread's state unchanged. */
export async function expectUnchanged<T>(app: TestApp, threadId: number, request: () => Promise<T>): Promise<T> {
  const before = { ...(await storedCounts(app)), state_revisions: await app.count('state_revisions'), thread: await storedState(app, threadId) };
  const result = await request();
  const after = { ...(await storedCounts(app)), state_revisions: await app.count('state_revisions'), thread: await storedState(app, threadId) };
  expect(after).toStrictEqual(before);
  return result;
}

/** An error answer: exactly this status and body (the seed's format, on either face). */
export function expectError(answer: Answer, status: number, body: Record<string, unknown>) {
  expect({ status: answer.status, body: answer.body }).toStrictEqual({ status, body });
}

/** A 422 with these field errors, the message being the first one's (Laravel style). */
export function expect422(answer: Answer, errors: Record<string, string[]>) {
  const all = Object.values(errors).flat();
  const message = all.length > 1 ? `${all[0]} (and ${all.length - 1} more error${all.length === 2 ? '' : 's'})` : all[0];
  expectError(answer, 422, { message, errors });
}
