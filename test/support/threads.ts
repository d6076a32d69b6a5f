// Helpers for the thread and message suites, on top of harness.ts and helpers.ts: thread and
// message calls, the rows a refused request must not add, gates that hold the fake's answer while
// a test acts, what the model was sent, and SQL access to a thread's answering lease. Edit when
// those suites need a new shared step.
import { TRPCClientError } from '@trpc/client';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { FakeOpenAI, RecordedRequest } from '../fake-openai/server.js';
import type { ApiResponse, TestApp, TestUser } from './harness.js';
import { query } from './helpers.js';

/**
 * The message resource's fields (SPEC.md, plus time_to_first_token_ms and error; part 2's versioned
 * state, branches, and the front-end tool calls of the agent protocols).
 */
export const MESSAGE_FIELDS = [
  'content',
  'context_truncated',
  'created_at',
  'error',
  'id',
  'latency_ms',
  'model',
  'parent_id',
  'proposal',
  'role',
  'sibling_count',
  'sibling_index',
  'state',
  'state_patch',
  'state_version',
  'status',
  'thread_id',
  'time_to_first_token_ms',
  'tool_call_id',
  'tool_calls',
  'updated_state',
  'usage',
];

/** The thread resource's fields (SPEC.md; part 2's versioned state and head_message_id). */
export const THREAD_FIELDS = [
  'created_at',
  'head_message_id',
  'id',
  'instructions',
  'last_message_at',
  'message_count',
  'metadata',
  'state',
  'state_review',
  'state_version',
  'title',
  'updated_at',
];

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A thread id no test creates. */
export const MISSING_ID = 987_654_321;

const JSON_HEADERS = { 'content-type': 'application/json' };

/** POST /ai/threads and the created thread (asserts 201). */
export async function newThread(app: TestApp, user: TestUser, body: Record<string, unknown> = {}) {
  const res = await app.api('POST', '/ai/threads', { token: user.token, body });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number } & Record<string, any>;
}

/** POST /ai/threads/{id}/messages: a JSON body, or `raw` text sent as application/json. */
export function postMessage(
  app: TestApp,
  token: string | undefined,
  threadId: number | string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const path = `/ai/threads/${threadId}/messages`;
  if (typeof body === 'string') return app.api('POST', path, { token, raw: body, headers: { ...JSON_HEADERS, ...headers } });
  return app.api('POST', path, { token, body, headers });
}

/** Sends a message that must be answered (201) and returns `{createdMessage, responseMessage}`. */
export async function sendMessage(
  app: TestApp,
  user: TestUser,
  threadId: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const res = await postMessage(app, user.token, threadId, body, headers);
  expect(res.status, res.text).toBe(201);
  return res.body as { createdMessage: Record<string, any>; responseMessage: Record<string, any> };
}

/** Every message of a thread, oldest first (asserts 200). */
export async function listAll(app: TestApp, user: TestUser, threadId: number) {
  const res = await app.api('GET', `/ai/threads/${threadId}/messages?limit=100`, { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.body.data as Array<Record<string, any>>;
}

/** The tables a thread or message request can write to. */
const STORED_TABLES = ['threads', 'messages', 'idempotency_keys'] as const;

export async function storedCounts(app: TestApp): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of STORED_TABLES) counts[table] = await app.count(table);
  return counts;
}

/** Runs a request that must be refused and checks that no thread, message or key was stored. */
export async function expectStoresNothing<T>(app: TestApp, request: () => Promise<T>): Promise<T> {
  const before = await storedCounts(app);
  const result = await request();
  expect(await storedCounts(app)).toEqual(before);
  return result;
}

/** A 422: exactly this message and these field errors, in the Laravel style. */
export function expect422(res: ApiResponse, errors: Record<string, string[]>, message?: string) {
  expect({ status: res.status, body: res.body }).toStrictEqual({
    status: 422,
    body: { message: message ?? Object.values(errors)[0]![0], errors },
  });
}

/** A `{"message": ...}` error body with this status (and no field errors). */
export function expectErrorBody(res: ApiResponse, status: number, message?: string | RegExp) {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.body)).toEqual(['message']);
  if (typeof message === 'string') expect(res.body.message).toBe(message);
  else if (message) expect(res.body.message).toMatch(message);
  else expect(res.body.message).toEqual(expect.any(String));
}

/** The error a typed tRPC call failed with: its message and data (httpStatus, errors, ...). */
export async function trpcFailure(call: Promise<unknown>): Promise<{ message: string; data: Record<string, any> }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const failure = error as TRPCClientError<any>;
  return { message: failure.message, data: failure.data as Record<string, any> };
}

/** A promise the test settles: scripted as `{type: 'gate', until}`, it holds a fake answer. */
export function gate(): { until: Promise<void>; open(): void } {
  let open!: () => void;
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

/** The text `scriptHeld` streams, in four deltas. */
export const FULL = 'One two three four.';

/** Scripts FULL in four deltas, held after the first `heldAfter` of them until the gate opens. */
export function scriptHeld(fake: FakeOpenAI, heldAfter: number) {
  const held = gate();
  const pieces = ['One ', 'two ', 'three ', 'four.'];
  fake.script({ type: 'paced_text', parts: [...pieces.slice(0, heldAfter), held.until, ...pieces.slice(heldAfter)] });
  return held;
}

/** Starts a request and resolves once the fake has received it (the answer is then in flight). */
export async function inFlight<T>(fake: FakeOpenAI, start: () => Promise<T>): Promise<{ done: Promise<T> }> {
  const seen = fake.requests.length;
  const done = start();
  await fake.waitForRequests(seen + 1);
  return { done };
}

export interface ChatMessage {
  role: string;
  content: unknown;
}

/** The chat messages a model call was sent. */
export function sentMessages(request: RecordedRequest | undefined): ChatMessage[] {
  expect(request, 'the model was not called').toBeDefined();
  return (request!.body.messages as ChatMessage[]).map(({ role, content }) => ({ role, content }));
}

/** The state the model saw: the JSON between <state> and </state> in the system messages. */
export function stateSeen(request: RecordedRequest | undefined): unknown {
  const system = sentMessages(request).find(
    (m) => m.role === 'system' && typeof m.content === 'string' && m.content.includes('<state>'),
  );
  expect(system, 'no state message').toBeDefined();
  const match = /<state>\n([\s\S]*)\n<\/state>/.exec(system!.content as string);
  return JSON.parse(match![1]!);
}

/** `{"a": {"a": ... {}}}`: an object `depth` levels deep (`{}` is 1 level). */
export function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < depth; level++) value = { a: value };
  return value;
}

/** The same as raw JSON text, for depths JSON.stringify should not be asked to write. */
export function rawNested(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

export interface Lease {
  busy_until: Date | string | null;
  busy_message_id: number | string | null;
}

export async function leaseOf(app: TestApp, threadId: number): Promise<Lease> {
  const [row] = await query<Lease>(app, sql`select busy_until, busy_message_id from threads where id = ${threadId}`);
  return row!;
}

/** Sets a thread's answering lease as another instance (or a crashed one) would have left it. */
export async function setLease(app: TestApp, threadId: number, secondsFromNow: number, messageId: number | null) {
  await app.database.db.execute(
    sql`update threads set busy_until = now() + make_interval(secs => ${secondsFromNow}::double precision), busy_message_id = ${messageId}::bigint where id = ${threadId}`,
  );
}

/** Messages rows of one thread, whatever their status. */
export async function messageRows(app: TestApp, threadId: number): Promise<number> {
  const [row] = await query<{ n: number }>(app, sql`select count(*)::int as n from messages where thread_id = ${threadId}`);
  return Number(row!.n);
}
