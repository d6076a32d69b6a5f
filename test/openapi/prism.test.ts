// The live service behind a validating OpenAPI proxy, Stoplight Prism (`prism proxy --errors`):
// every request is checked against the live document before it is forwarded, and every answer
// after, streams included. A mismatch either way (a body the document calls required that the
// service does not need, a field or header the document gets wrong) is a violation: Prism answers
// it with an error or names it in an `sl-violations` header. The flow must see none.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueEmail, type TestApp } from '../support/harness.js';
import { parseFrame, type SseEvent } from '../support/sse.js';

const PRISM = join(dirname(createRequire(import.meta.url).resolve('@stoplight/prism-cli/package.json')), 'dist/index.js');

let app: TestApp;
let prism: ChildProcess;
let proxy: string;
let output = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  app = await startTestApp();
  const port = await freePort();
  proxy = `http://127.0.0.1:${port}`;
  prism = spawn(
    process.execPath,
    [PRISM, 'proxy', `${app.url}/api/v1/openapi.json`, `${app.url}/api/v1`, '--errors', '--port', String(port), '--host', '127.0.0.1', '--cors', 'false'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  );
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Prism is listening/.test(output)) resolve();
    };
    prism.stdout!.on('data', onData);
    prism.stderr!.on('data', onData);
    prism.once('exit', (code) => reject(new Error(`prism exited (${code}) before listening:\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (prism && prism.exitCode === null) {
    const exited = new Promise((resolve) => prism.once('exit', resolve));
    prism.kill('SIGTERM');
    await exited;
  }
  await app?.close();
});

interface ProxyResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** A request through the proxy; fails on any violation Prism reports. */
async function through(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ProxyResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(proxy + path, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const label = `${method} ${path}: ${res.status} ${text.slice(0, 2000)}`;
  expect(res.headers.get('sl-violations'), label).toBeNull();
  expect(res.headers.get('content-type') ?? '', label).not.toMatch(/problem\+json/);
  return { status: res.status, headers: res.headers, text, body };
}

function expectStatus(res: ProxyResponse, status: number) {
  expect(res.status, res.text.slice(0, 2000)).toBe(status);
}

describe('the service behind Prism in proxy mode with --errors', () => {
  it('runs the seed flow with no violation', async () => {
    const signUp = await through('POST', '/auth/sign-up', { body: { email: uniqueEmail('prism'), password: 'correct horse battery' } });
    expectStatus(signUp, 201);
    const token: string = signUp.body.token;

    expectStatus(await through('GET', '/me', { token }), 200);
    // No body: a new thread's fields are all optional.
    expectStatus(await through('POST', '/ai/threads', { token }), 201);
    const created = await through('POST', '/ai/threads', {
      token,
      body: { title: 'Through Prism', instructions: 'Be brief.', metadata: { source: 'prism' }, state: { step: 0 } },
      headers: { 'idempotency-key': 'prism-thread-1' },
    });
    expectStatus(created, 201);
    const threadId: number = created.body.id;

    const pair = await through('POST', `/ai/threads/${threadId}/messages`, {
      token,
      body: { content: 'Hello!', state: { form: { field: 'value' } } },
      headers: { 'idempotency-key': 'prism-message-1' },
    });
    expectStatus(pair, 201);
    const replay = await through('POST', `/ai/threads/${threadId}/messages`, {
      token,
      body: { content: 'Hello!', state: { form: { field: 'value' } } },
      headers: { 'idempotency-key': 'prism-message-1' },
    });
    expectStatus(replay, 201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const messageId: number = pair.body.responseMessage.id;
    const list = await through('GET', `/ai/threads/${threadId}/messages?limit=10`, { token });
    expectStatus(list, 200);
    expect(list.body.data).toHaveLength(2);
    expectStatus(await through('GET', `/ai/threads/${threadId}/messages/${messageId}`, { token }), 200);
    expectStatus(await through('GET', `/ai/threads/${threadId}`, { token }), 200);
    expectStatus(await through('GET', '/ai/threads?limit=5', { token }), 200);
    expectStatus(await through('PATCH', `/ai/threads/${threadId}`, { token, body: { title: null, metadata: {} } }), 200);
    // The service's own refusals are documented answers too.
    expectStatus(await through('GET', '/ai/threads/987654321', { token }), 404);
    expectStatus(await through('POST', `/ai/threads/${threadId}/messages/${messageId}/cancel`, { token }), 409);

    const apiToken = await through('POST', '/api-tokens', { token, body: { name: 'Prism', permissions: ['ai_threads.view'] } });
    expectStatus(apiToken, 201);
    expectStatus(await through('GET', '/api-tokens', { token }), 200);
    expectStatus(await through('GET', `/api-tokens/${apiToken.body.api_token.id}`, { token }), 200);
    // A token without the permission: 403 from the service, with the rate-limit headers it documents.
    expectStatus(await through('POST', '/ai/threads', { token: apiToken.body.token, body: {} }), 403);
    expectStatus(await through('DELETE', `/api-tokens/${apiToken.body.api_token.id}`, { token }), 204);

    expectStatus(await through('DELETE', `/ai/threads/${threadId}`, { token }), 204);
    // Sign-out takes no body.
    expectStatus(await through('POST', '/auth/sign-out', { token }), 204);
    // A revoked session: the service's 401, with its WWW-Authenticate header.
    const gone = await through('GET', '/me', { token });
    expectStatus(gone, 401);
    expect(gone.headers.get('www-authenticate')).toBe('Bearer');
  }, 60_000);

  it('streams an answer with no violation', async () => {
    const token = (await app.signUp()).token;
    const thread = await through('POST', '/ai/threads', { token, body: {} });
    expectStatus(thread, 201);
    const res = await through('POST', `/ai/threads/${thread.body.id}/messages/stream`, {
      token,
      body: { content: 'Stream through Prism.', state: { step: 1 } },
    });
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = res.text
      .split('\n\n')
      .map((frame) => parseFrame(frame).event)
      .filter((event): event is SseEvent => event !== undefined);
    expect(events.map((event) => event.event)[0]).toBe('message.created');
    expect(events.at(-1)!.event).toBe('response.completed');
    expect(events.every((event) => event.data.type === event.event)).toBe(true);
  }, 60_000);
});
