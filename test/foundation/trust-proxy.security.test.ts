// Whose word the client IP is (TRUST_PROXY): the values the setting accepts and refuses, and that
// behind trusted proxies a client is the address the last trusted proxy saw, so writing its own
// X-Forwarded-For entries does not give a client a fresh per-IP budget on either face.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@ai-threads/server';
import { startTestApp, uniqueEmail, type ApiResponse, type TestApp } from '../support/harness.js';
import { TOO_MANY, expectRestError, expectTrpcError, trpc } from '../support/helpers.js';

describe('TRUST_PROXY values', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['loopback', ['loopback']],
    [' loopback, uniquelocal,10.0.0.0/8 ,fd00::/8', ['loopback', 'uniquelocal', '10.0.0.0/8', 'fd00::/8']],
    ['192.0.2.1,::1,172.16.0.0/255.240.0.0', ['192.0.2.1', '::1', '172.16.0.0/255.240.0.0']],
  ])('%j → %j', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('refuses true, naming the variable and the alternatives', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    let message = '';
    try {
      loadConfig({ TRUST_PROXY: 'TRUE' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('TRUST_PROXY="TRUE": true would believe any client-sent X-Forwarded-For');
    for (const alternative of ['TRUST_PROXY=1', 'TRUST_PROXY=loopback,10.0.0.0/8', 'or false']) expect(message).toContain(alternative);
  });

  it.each(['yes', '-1', '1.5', '101', '10.0.0.0/33', '300.1.1.1', 'loopback,', 'loopback,example.com', '::1/129', '10.0.0.0/8/8'])(
    'refuses %j with a message naming the variable',
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(`TRUST_PROXY=${JSON.stringify(value)}: must`);
    },
  );
});

const IP_LIMIT = 3;
const REQUEST_LIMIT = 5;

describe.each([
  ['one hop (TRUST_PROXY=1)', '1', (client: string) => client],
  // The test client connects over loopback (trusted), then says it came through 10.1.2.3 (trusted).
  ['a list of proxies (TRUST_PROXY=loopback,10.0.0.0/8)', 'loopback,10.0.0.0/8', (client: string) => `${client}, 10.1.2.3`],
])('behind %s', (_label, trustProxy, chain) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      env: {
        TRUST_PROXY: trustProxy,
        SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: String(IP_LIMIT),
        RATE_LIMIT_REQUESTS_PER_MINUTE: String(REQUEST_LIMIT),
      },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  let seq = 0;
  /** A header whose left-most entry is new on every call, as a client rotating it would send. */
  const spoofing = (client: string) => ({ 'x-forwarded-for': `198.18.${Math.floor(++seq / 250)}.${seq % 250}, ${chain(client)}` });
  const signIn = (client: string) =>
    app.api('POST', '/auth/sign-in', { body: { email: uniqueEmail('xff'), password: 'wrong password' }, headers: spoofing(client) });
  const signInRpc = (client: string) =>
    trpc(app, 'mutation', 'auth.signIn', { email: uniqueEmail('xff'), password: 'wrong password' }, { headers: spoofing(client) });

  it('the per-IP sign-in limit holds on REST however the left-most entry rotates; another client is unaffected', async () => {
    const client = '203.0.113.10';
    for (let i = 0; i < IP_LIMIT; i++) expect((await signIn(client)).status).toBe(422);
    const refused = await signIn(client);
    expectRestError(refused, 429, TOO_MANY);
    expect(refused.headers.get('x-ratelimit-limit')).toBe(String(IP_LIMIT));

    expect((await signIn('203.0.113.11')).status).toBe(422);
  });

  it('the per-IP sign-in limit holds on tRPC however the left-most entry rotates', async () => {
    const client = '203.0.113.20';
    for (let i = 0; i < IP_LIMIT; i++) expect((await signInRpc(client)).status).toBe(422);
    expectTrpcError(await signInRpc(client), 429, TOO_MANY.message);
  });

  it('the unauthenticated request limit holds on both faces however the left-most entry rotates', async () => {
    const client = '203.0.113.30';
    const answers: ApiResponse[] = [];
    for (let i = 0; i < REQUEST_LIMIT; i++) {
      const headers = spoofing(client);
      answers.push(await (i % 2 ? trpc(app, 'mutation', 'auth.signOut', {}, { headers }) : app.api('POST', '/auth/sign-out', { headers })));
    }
    expect(answers.map((res) => res.status)).toEqual(answers.map((_, i) => (i % 2 ? 200 : 204)));
    expectRestError(await app.api('POST', '/auth/sign-out', { headers: spoofing(client) }), 429, TOO_MANY);
    expectTrpcError(await trpc(app, 'mutation', 'auth.signOut', {}, { headers: spoofing(client) }), 429, TOO_MANY.message);
  });
});

describe('without TRUST_PROXY', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: String(IP_LIMIT) } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('X-Forwarded-For is ignored: the client is the connection peer, whatever the header says', async () => {
    const signIn = (i: number) =>
      app.api('POST', '/auth/sign-in', {
        body: { email: uniqueEmail('xff'), password: 'wrong password' },
        headers: { 'x-forwarded-for': `198.18.0.${i}` },
      });
    for (let i = 0; i < IP_LIMIT; i++) expect((await signIn(i)).status).toBe(422);
    expectRestError(await signIn(99), 429, TOO_MANY);
  });
});
