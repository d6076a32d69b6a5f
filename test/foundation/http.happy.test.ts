// The service around the operations: health and readiness checks, request ids, JSON content types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, startTestApp, type TestApp } from '../support/harness.js';
import { trpc } from '../support/helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('health', () => {
  it('GET /healthz: the process is up', async () => {
    const res = await app.http('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ status: 'ok' });
  });

  it('GET /readyz: the database answers, and which driver it is', async () => {
    const res = await app.http('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ status: 'ready', database: onPostgres ? 'postgres' : 'pglite' });
  });
});

describe('X-Request-Id', () => {
  it('echoes the id the client sends, on both faces and on errors', async () => {
    for (const [method, path] of [
      ['GET', '/healthz'],
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/no-such-route'],
      ['GET', '/trpc/me.get'],
    ] as const) {
      const res = await app.http(method, path, { headers: { 'x-request-id': 'client-req.42:a_b-c' } });
      expect(res.headers.get('x-request-id')).toBe('client-req.42:a_b-c');
    }
  });

  it('makes a fresh one when none is sent', async () => {
    const [a, b] = [await app.http('GET', '/healthz'), await app.http('GET', '/healthz')];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(a.headers.get('x-request-id')).toMatch(uuid);
    expect(b.headers.get('x-request-id')).toMatch(uuid);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('replaces an id that could forge log lines or headers', async () => {
    const res = await app.http('GET', '/healthz', { headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const spaced = await app.http('GET', '/healthz', { headers: { 'x-request-id': 'a b {"level":60}' } });
    expect(spaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('JSON in and out', () => {
  it('answers application/json on both faces', async () => {
    const user = await app.signUp();
    const rest = await app.api('GET', '/me', { token: user.token });
    const rpc = await trpc(app, 'query', 'me.get', undefined, { token: user.token });
    expect(rest.headers.get('content-type')).toMatch(/^application\/json/);
    expect(rpc.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('accepts a body sent as application/json; charset=utf-8 on both faces', async () => {
    const user = await app.signUp();
    const headers = { 'content-type': 'application/json; charset=utf-8' };
    const raw = JSON.stringify({ name: 'charset', permissions: ['ai_threads.view'] });
    const rest = await app.api('POST', '/api-tokens', { token: user.token, raw, headers });
    expect(rest.status).toBe(201);
    expect(rest.body.api_token.name).toBe('charset');
    const rpc = await app.http('POST', '/trpc/apiTokens.create', { token: user.token, raw, headers });
    expect(rpc.status).toBe(201);
  });

  it('takes a POST without a body as an empty object (sign-out needs none)', async () => {
    const user = await app.signUp();
    const res = await app.http('POST', '/api/v1/auth/sign-out', { token: user.token });
    expect(res.status).toBe(204);
  });
});
