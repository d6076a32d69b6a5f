// The hostile suites' shared ground: an app with limits out of the way (so that every request
// reaches validation), a signed-up user with threads, messages and API tokens to aim at, a
// sender that survives what fetch and node do with odd requests, and the invariants every answer
// must keep: never a 5xx, a JSON error body, no row stored for a refused request, and a live
// process afterwards.
import { appendFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect } from 'vitest';
import { operations as contractOperations, PERMISSIONS, type Operation } from '@ai-threads/contracts';
import { OMIT, Raw, type AuthChoice, type SchemaHints } from './arbitraries.js';
import { startTestApp, type TestApp, type TestUser } from '../support/harness.js';
import { query } from '../support/helpers.js';
import { parseFrame } from '../support/sse.js';

const TABLES = ['users', 'sessions', 'api_tokens', 'threads', 'messages', 'idempotency_keys', 'state_revisions'] as const;

/** Every operation of the contracts, flat. */
export function operations(): Operation[] {
  // The contracts nest (threads.state.revisions.get): the package's flat list has every operation once.
  return [...contractOperations];
}

/** Runs per property: FC_RUNS overrides, FC_SEED replays a failure. */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env['FC_SEED'];
  const runs = process.env['FC_RUNS'];
  return {
    numRuns: runs ? Number(runs) : numRuns,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(process.env['FC_PATH'] ? { path: process.env['FC_PATH'] } : {}),
    // A failing request is reported as it was sent; shrinking HTTP calls is slow and stateful.
    endOnFailure: process.env['FC_SHRINK'] ? false : true,
  };
}

export const HOSTILE_ENV = {
  RATE_LIMIT_REQUESTS_PER_MINUTE: '100000000',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '100000000',
  SIGN_IN_ATTEMPTS_PER_MINUTE_PER_EMAIL: '100000000',
  SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: '100000000',
};

export interface Fixture {
  app: TestApp;
  user: TestUser;
  /** The user's current session token (renewed when a fuzzed sign-out ends it). */
  token: string;
  /** Thread ids of the user; grows when a fuzzed delete removes one. */
  threads: number[];
  /** Message ids of those threads. */
  messages: number[];
  /** API token ids of the user. */
  apiTokens: number[];
  /** The secret of the first, which may only view threads (its calls meet 403s). */
  apiTokenSecret: string;
  /** A thread of another user: must be a 404 for ours. */
  foreignThread: number;
  /** The row counts after the last checked call (undefined: read them again). */
  counts?: Counts | undefined;
}

async function newThread(app: TestApp, token: string, body: unknown = { title: 'fixture' }): Promise<number> {
  const res = await app.api('POST', '/ai/threads', { token, body });
  if (res.status !== 201) throw new Error(`thread creation failed: ${res.status} ${res.text}`);
  return res.body.id as number;
}

export async function startFixture(env: Record<string, string> = {}): Promise<Fixture> {
  const app = await startTestApp({ env: { ...HOSTILE_ENV, ...env } });
  const user = await app.signUp();
  const other = await app.signUp();
  const threads: number[] = [];
  const messages: number[] = [];
  for (let i = 0; i < 4; i += 1) {
    const id = await newThread(app, user.token, { title: `fixture ${i}`, state: { form: { color: 'red' } }, metadata: { k: String(i) } });
    threads.push(id);
    const res = await app.api('POST', `/ai/threads/${id}/messages`, { token: user.token, body: { content: 'hello', state: { a: 1 } } });
    if (res.status !== 201) throw new Error(`message creation failed: ${res.status} ${res.text}`);
    messages.push(res.body.createdMessage.id, res.body.responseMessage.id);
  }
  const apiTokens: number[] = [];
  let apiTokenSecret = '';
  for (let i = 0; i < 2; i += 1) {
    const res = await app.api('POST', '/api-tokens', { token: user.token, body: { name: `t${i}`, permissions: ['ai_threads.view'] } });
    if (res.status !== 201) throw new Error(`api token creation failed: ${res.status} ${res.text}`);
    apiTokens.push(res.body.api_token.id);
    apiTokenSecret ||= res.body.token;
  }
  const foreignThread = await newThread(app, other.token);
  return { app, user, token: user.token, threads, messages, apiTokens, apiTokenSecret, foreignThread };
}

/** After a fuzzed call that may have ended the session or deleted a thread, top the fixture up. */
async function repairFixture(fx: Fixture): Promise<void> {
  const me = await fx.app.api('GET', '/me', { token: fx.token });
  if (me.status === 401) {
    const res = await fx.app.api('POST', '/auth/sign-in', { body: { email: fx.user.email, password: 'correct horse battery' } });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
    fx.token = res.body.token;
  }
}

async function threadDeleted(fx: Fixture): Promise<void> {
  fx.threads.push(await newThread(fx.app, fx.token));
}

/** An arbitrary that picks from a pool that may grow while the property runs. */
export const fromPool = (pool: number[]): fc.Arbitrary<number> => fc.nat().map((i) => pool[i % pool.length]!);

// ---------------------------------------------------------------------------------------------
// Sending

export interface HostileRequest {
  method: string;
  /** Path and query, already encoded as they go on the wire. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
}

export interface HostileResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Bytes of all header lines: over node's 16 KB limit, node itself answers 431 (or hangs up). */
function headerBytes(request: HostileRequest): number {
  return Object.entries(request.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, request.path.length + 64);
}

/** What a request looks like in a failure report: long strings cut short. */
function describeRequest(request: HostileRequest): string {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…(${s.length} chars)` : s);
  const body =
    request.body === undefined
      ? undefined
      : typeof request.body === 'string'
        ? cut(request.body)
        : `bytes[${[...request.body.slice(0, 64)].join(',')}${request.body.length > 64 ? ',…' : ''}]`;
  return JSON.stringify({
    method: request.method,
    path: cut(request.path),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, cut(v)])),
    body,
  });
}

/**
 * Sends a request and reads the whole answer (a stream until it ends). `undefined` when the server
 * hung up on headers over node's size limit, which node is allowed to do.
 */
async function send(app: TestApp, request: HostileRequest, timeoutMs = 20_000): Promise<HostileResponse | undefined> {
  let res: Response;
  try {
    res = await fetch(app.url + request.path, {
      method: request.method,
      headers: request.headers,
      body: request.body as BodyInit | undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (headerBytes(request) > 16 * 1024) return undefined;
    throw new Error(`the request failed (${String((error as Error).cause ?? error)}): ${describeRequest(request)}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// ---------------------------------------------------------------------------------------------
// Invariants

/** HOSTILE_STATS=1: how often each route answered each status, printed when the file ends. */
const stats = new Map<string, Map<number | string, number>>();
function tally(face: string, request: HostileRequest, status: number | string) {
  const route = request.path.split('?')[0]!.slice(0, 60).replace(/\/\d+(?=\/|$)/g, '/:id');
  const key = `${face} ${request.method} ${route}`;
  const byStatus = stats.get(key) ?? new Map<number | string, number>();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  stats.set(key, byStatus);
}
export function printStats() {
  if (!process.env['HOSTILE_STATS']) return;
  const lines = [...stats].filter(([, m]) => [...m.values()].reduce((a, b) => a + b) >= 10).sort(([a], [b]) => a.localeCompare(b));
  for (const [key, byStatus] of lines) console.log(`STATS ${key}: ${[...byStatus].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([st, n]) => `${st}×${n}`).join(' ')}`);
}

/** HOSTILE_DUMP=<file>: the whole of a failing request, for replaying it by hand. */
function dump(file: string, request: HostileRequest, res: HostileResponse) {
  const body = typeof request.body === 'string' ? request.body : request.body ? Buffer.from(request.body).toString('base64') : undefined;
  appendFileSync(file, `${JSON.stringify({ ...request, body, bodyIsBase64: request.body instanceof Uint8Array, status: res.status, answer: res.text })}\n`);
}

export type Counts = Record<(typeof TABLES)[number], number>;

export async function counts(app: TestApp): Promise<Counts> {
  const [row] = await query<Record<string, number>>(
    app,
    sql.raw(`select ${TABLES.map((t) => `(select count(*)::int from "${t}") as "${t}"`).join(', ')}`),
  );
  return Object.fromEntries(TABLES.map((t) => [t, Number(row![t])])) as Counts;
}

const isStringArrayMap = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((v) => Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string'));

/**
 * The error events of an event stream (REST `error`, tRPC `serialized-error`) must not be 5xx.
 * True when the stream is a refusal: a tRPC subscription answers 200 and then only an error.
 */
function checkStream(text: string, where: string): boolean {
  let errors = 0;
  let data = 0;
  for (const frame of text.split(/\n\n/)) {
    const { event } = parseFrame(frame);
    if (!event) continue;
    if (event.event === 'serialized-error') errors += 1;
    else if (!['connected', 'return', 'ping'].includes(event.event)) data += 1;
    if (event.event === 'error') {
      expect(event.data?.status, `${where}: stream error event ${event.raw}`).toBeLessThan(500);
      expect(typeof event.data?.message, where).toBe('string');
    }
    if (event.event === 'serialized-error') {
      const status = event.data?.data?.httpStatus;
      expect(status, `${where}: stream error event ${event.raw}`).toBeLessThan(500);
    }
  }
  return errors > 0 && data === 0;
}

const isStream = (res: HostileResponse) => (res.headers.get('content-type') ?? '').startsWith('text/event-stream');

/** A REST answer: below 500; an error is JSON `{message}` (and `errors` for a 422). */
function checkRest(res: HostileResponse, request: HostileRequest) {
  const where = `${describeRequest(request)} → ${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, where).toBeLessThan(500);
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) checkStream(res.text, where);
  if (res.status < 400 || request.method === 'HEAD' || res.status === 431) return;
  expect(res.headers.get('content-type') ?? '', where).toMatch(/^application\/json/);
  expect(typeof res.json?.message, where).toBe('string');
  if (res.status === 422) expect(isStringArrayMap(res.json.errors), where).toBe(true);
  else if (res.status === 412) {
    // The one error with more than a message: the state's current version (SPEC.md part 2).
    expect(Object.keys(res.json).sort(), where).toEqual(['current_version', 'message']);
    expect(Number.isInteger(res.json.current_version), where).toBe(true);
    expect(res.headers.get('etag'), where).toBe(`"${res.json.current_version}"`);
  } else expect(Object.keys(res.json).sort(), where).toEqual(['message']);
}

/** A tRPC answer: below 500; an error (or each error of a batch) has a message and the status. */
function checkTrpc(res: HostileResponse, request: HostileRequest) {
  const where = `${describeRequest(request)} → ${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, where).toBeLessThan(500);
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    checkStream(res.text, where);
    return;
  }
  if (res.status === 207) expect(Array.isArray(res.json), where).toBe(true);
  if ((res.status < 400 && !Array.isArray(res.json)) || request.method === 'HEAD' || res.status === 431) return;
  expect(res.headers.get('content-type') ?? '', where).toMatch(/^application\/json/);
  const items = Array.isArray(res.json) ? res.json : [res.json];
  for (const item of items) {
    if (item && 'result' in item) continue;
    expect(typeof item?.error?.message, where).toBe('string');
    const status = item.error.data?.httpStatus;
    expect(typeof status, where).toBe('number');
    expect(status, where).toBeLessThan(500);
    if (status === 422) expect(isStringArrayMap(item.error.data.errors), where).toBe(true);
    if (!Array.isArray(res.json)) expect(status, where).toBe(res.status);
  }
}

/**
 * Sends one request and checks every invariant: the face's answer shape, and for a refusal, that
 * no row of any resource was added or removed. The row counts are read once a call, after it:
 * the "before" of a call is the "after" of the one before (or of `fx.counts = undefined`).
 */
export async function sendAndCheck(fx: Fixture, face: 'rest' | 'trpc' | 'any', request: HostileRequest): Promise<HostileResponse | undefined> {
  const before = (fx.counts ??= await counts(fx.app));
  const res = await send(fx.app, request);
  if (!res) return undefined;
  if (res.status >= 500 && process.env['HOSTILE_DUMP']) dump(process.env['HOSTILE_DUMP'], request, res);
  const rpcShaped = res.json && typeof res.json === 'object' && ('error' in res.json || Array.isArray(res.json));
  (face === 'rest' || (face === 'any' && !rpcShaped) ? checkRest : checkTrpc)(res, request);
  const refusedStream = face === 'trpc' && isStream(res) && checkStream(res.text, describeRequest(request));
  if (process.env['HOSTILE_STATS']) tally(face, request, refusedStream ? 'refused stream' : res.status);
  // HOSTILE_WHY=<path part>: print the 422s of those routes, to see what keeps requests shallow.
  const why = process.env['HOSTILE_WHY'];
  if (why && res.status === 422 && request.path.includes(why)) console.log(`WHY ${request.path.slice(0, 80)}: ${res.text.slice(0, 200)}`);
  const after = await counts(fx.app);
  if (res.status >= 400 || refusedStream) {
    expect(after, `a refused request changed rows: ${describeRequest(request)} → ${res.status} ${res.text.slice(0, 300)}`).toEqual(before);
  }
  fx.counts = after;
  return res;
}

/** The process still answers: health, and a known-good call on both faces. */
export async function expectAlive(fx: Fixture) {
  await repairFixture(fx);
  expect((await fx.app.http('GET', '/healthz')).status).toBe(200);
  const me = await fx.app.api('GET', '/me', { token: fx.token });
  expect(me.status, me.text).toBe(200);
  const thread = await fx.app.api('GET', `/ai/threads/${fx.threads[0]}`, { token: fx.token });
  expect([200, 404]).toContain(thread.status);
  const rpc = await fx.app.http('GET', '/trpc/me.get', { token: fx.token });
  expect(rpc.status, rpc.text).toBe(200);
  const created = await fx.app.api('POST', '/ai/threads', { token: fx.token, body: { title: 'still alive' } });
  expect(created.status, created.text).toBe(201);
  const msg = await fx.app.api('POST', `/ai/threads/${created.body.id}/messages`, { token: fx.token, body: { content: 'ping' } });
  expect(msg.status, msg.text).toBe(201);
  fx.counts = undefined;
}

/** Valid values for the fields that name things: the fixture's ids, real permission names. */
export function hintsFor(fx: Fixture): SchemaHints {
  const anyId = fc.oneof(fromPool(fx.threads), fromPool(fx.messages), fromPool(fx.apiTokens));
  return {
    fields: {
      threadId: fc.oneof({ weight: 6, arbitrary: fromPool(fx.threads) }, { weight: 1, arbitrary: fc.constant(fx.foreignThread) }),
      messageId: fromPool(fx.messages),
      id: fromPool(fx.apiTokens),
      after: anyId,
      before: anyId,
      permissions: fc.subarray([...PERMISSIONS], { minLength: 1 }),
      metadata_key: fc.constantFrom('k', '__proto__', 'constructor'),
      // Mostly a new answer; sometimes a resume of one of the fixture's.
      lastEventId: fc.oneof(
        { weight: 6, arbitrary: fc.constant(OMIT) },
        { weight: 1, arbitrary: fc.tuple(fromPool(fx.messages), fc.constantFrom('0', '1', 'done')).map(([id, n]) => `${id}:${n}`) },
      ),
    },
  };
}

/** Applies a fuzzed call's lasting effects to the fixture (an ended session, a deleted thread). */
export async function afterCall(fx: Fixture, op: Operation | undefined, res: HostileResponse | undefined) {
  if (!res || res.status >= 300) return;
  if (op?.name === 'auth.signOut') await repairFixture(fx);
  if (op?.name === 'threads.delete') await threadDeleted(fx);
  fx.counts = undefined;
}

/** Authorization (or cookie) headers for a fuzzed choice, with the fixture's current token. */
export function authHeaders(fx: Fixture, auth: AuthChoice): Record<string, string> {
  switch (auth.kind) {
    case 'bearer':
      return { authorization: `Bearer ${fx.token}` };
    case 'api-token':
      return { authorization: `Bearer ${fx.apiTokenSecret}` };
    case 'none':
      return {};
    case 'header':
      return { authorization: auth.value };
    case 'cookie': {
      const origin = { same: fx.app.url, none: undefined, evil: 'https://evil.example', garbage: 'null' }[auth.origin];
      return { cookie: `ai_threads_session=${fx.token}`, ...(origin ? { origin } : {}) };
    }
  }
}

/** Makes fast-check print a generated plan short (long strings cut), in failure reports. */
export function printable<T extends object>(value: T): T {
  const cut = (_key: string, v: unknown) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v instanceof Uint8Array ? `bytes[${[...v.slice(0, 32)].join(',')}]` : v;
  Object.defineProperty(value, fc.toStringMethod, {
    value: () => JSON.stringify(value, (k, v) => (v instanceof Raw ? `Raw(${String(cut(k, v.text))})` : cut(k, v))),
    enumerable: false,
  });
  return value;
}
