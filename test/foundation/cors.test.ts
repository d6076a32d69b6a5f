// CORS: browser front ends on the origins of ALLOWED_ORIGINS may call the API with credentials and
// read the headers clients need; any other origin gets no CORS headers at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/harness.js';

const FRONT_END = 'https://app.example.com';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { ALLOWED_ORIGINS: `${FRONT_END}, https://admin.example.com` } });
});
afterAll(async () => {
  await app?.close();
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin with the methods and headers the API uses', async () => {
    const res = await app.api('OPTIONS', '/ai/threads/1/messages', {
      headers: {
        origin: FRONT_END,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Last-Event-ID/);
  });

  it('lets an allowed origin read Retry-After, rate limits, the request id and replays', async () => {
    const user = await app.signUp();
    const res = await app.api('GET', '/me', { token: user.token, headers: { origin: FRONT_END } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    const exposed = res.headers.get('access-control-expose-headers') ?? '';
    for (const name of ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-Request-Id', 'Idempotent-Replayed']) {
      expect(exposed).toContain(name);
    }
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('gives another origin no CORS headers', async () => {
    const preflight = await app.api('OPTIONS', '/me', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const user = await app.signUp();
    const res = await app.api('GET', '/me', { token: user.token, headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
