// Helpers shared by the HTTP suites, on top of harness.ts: raw tRPC calls, the typed tRPC client,
// the session cookie, SQL reads and writes for setting up states the API cannot reach (expired
// sessions, other roles), and the "a refused request stores nothing" check.
import { createHash } from 'node:crypto';
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';
import { sql, type SQL } from 'drizzle-orm';
import { expect } from 'vitest';
import type { AppRouter } from '@ai-threads/server';
import type { ApiResponse, RequestOptions, TestApp } from './harness.js';

const SESSION_COOKIE = 'ai_threads_session';

export const MEMBER_PERMISSIONS = [
  'ai_thread_messages.create',
  'ai_thread_messages.view',
  'ai_threads.create',
  'ai_threads.delete',
  'ai_threads.update',
  'ai_threads.view',
  'api_tokens.manage',
];
export const VIEWER_PERMISSIONS = ['ai_thread_messages.view', 'ai_threads.view', 'api_tokens.manage'];

export const UNAUTHENTICATED = { message: 'Unauthenticated.' };
export const FORBIDDEN = { message: 'This action is unauthorized.' };
export const TOO_MANY = { message: 'Too Many Attempts.' };

/** Headers that authenticate by the session cookie, as a browser would send them. */
export function cookieHeaders(token: string, origin?: string): Record<string, string> {
  return { cookie: `${SESSION_COOKIE}=${token}`, ...(origin ? { origin } : {}) };
}

/** A call on the tRPC face: queries as GET with `?input=`, mutations as POST with the raw input. */
export function trpc(
  app: TestApp,
  type: 'query' | 'mutation',
  path: string,
  input?: unknown,
  options: Omit<RequestOptions, 'body'> = {},
): Promise<ApiResponse> {
  if (type === 'query') {
    const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return app.http('GET', `/trpc/${path}${query}`, options);
  }
  return app.http('POST', `/trpc/${path}`, input === undefined ? options : { ...options, body: input });
}

/**
 * The typed client a front end with subscriptions builds: httpSubscriptionLink over server-sent
 * events (the `eventsource` package, Bearer credentials in the EventSource's fetch), httpLink for
 * the rest.
 */
export function subscriptionClient(app: TestApp, token: string): TRPCClient<AppRouter> {
  const authorization = `Bearer ${token}`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: `${app.url}/trpc`,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization } }),
          }),
        }),
        false: httpLink({ url: `${app.url}/trpc`, headers: { authorization } }),
      }),
    ],
  });
}

/** The typed client a TypeScript front end would use. */
export function typedClient(app: TestApp, token?: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${app.url}/trpc`, headers: token ? { authorization: `Bearer ${token}` } : {} })],
  });
}

/** Freezes a JSON value all the way down, so that a test sees any write to it (it throws). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Rows of a query, whichever driver runs it (postgres.js answers an array, PGlite `{rows}`). */
export async function query<T = Record<string, unknown>>(app: TestApp, statement: SQL): Promise<T[]> {
  const result = await app.database.db.execute(statement);
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `<prefix><id>.<secret>`: the public lookup id and the secret half of a token. */
export function tokenParts(token: string): { prefix: string; id: string; secret: string } {
  const match = /^(sess_|ait_)([a-z2-7]+)\.([a-z2-7]+)$/.exec(token);
  if (!match) throw new Error(`not a token: ${token}`);
  return { prefix: match[1]!, id: match[2]!, secret: match[3]! };
}

export async function sessionRow(app: TestApp, token: string) {
  const [row] = await query<{ id: string; secret_hash: string; user_id: number; expires_at: string | Date }>(
    app,
    sql`select * from sessions where id = ${tokenParts(token).id}`,
  );
  return row;
}

export async function setSessionExpiry(app: TestApp, token: string, expiresAt: Date) {
  await app.database.db.execute(
    sql`update sessions set expires_at = ${expiresAt.toISOString()}::timestamptz where id = ${tokenParts(token).id}`,
  );
}

/** Gives a user another built-in role (`member`, `viewer`): roles are not assignable over the API. */
export async function setRole(app: TestApp, userId: number, role: string) {
  await app.database.db.execute(
    sql`update users set role_id = (select id from roles where name = ${role}) where id = ${userId}`,
  );
}

/** Creates a personal API token over REST and returns its resource and secret. */
export async function createApiToken(
  app: TestApp,
  bearer: string,
  body: { name?: string; permissions: string[]; expires_at?: string },
) {
  const res = await app.api('POST', '/api-tokens', { token: bearer, body: { name: 'test token', ...body } });
  if (res.status !== 201) throw new Error(`api token creation failed: ${res.status} ${res.text}`);
  return res.body as { api_token: { id: number; permissions: string[] } & Record<string, unknown>; token: string };
}

const TABLES = ['users', 'sessions', 'api_tokens', 'threads', 'messages', 'state_revisions', 'idempotency_keys'] as const;

async function snapshot(app: TestApp) {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = await app.count(table);
  return counts;
}

/** Runs a request that must be refused, and checks that it stored no row of any resource. */
export async function expectNothingStored<T>(app: TestApp, request: () => Promise<T>): Promise<T> {
  const before = await snapshot(app);
  const result = await request();
  expect(await snapshot(app)).toEqual(before);
  return result;
}

/** A REST error answer: its status and exactly this body. */
export function expectRestError(res: ApiResponse, status: number, body: Record<string, unknown>) {
  expect({ status: res.status, body: res.body }).toStrictEqual({ status, body });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/** A tRPC error answer: its HTTP status, message and (for 422) field errors. */
export function expectTrpcError(
  res: ApiResponse,
  status: number,
  message: string,
  errors?: Record<string, string[]>,
) {
  expect(res.status).toBe(status);
  expect(res.body.error.message).toBe(message);
  expect(res.body.error.data.httpStatus).toBe(status);
  expect(res.body.error.data.errors).toStrictEqual(errors);
}
