// tRPC batches are capped (TRPC_MAX_BATCH_SIZE, 10 by default): a longer batch is refused whole
// with a 400 in the tRPC error format before any call runs, so it creates nothing and sets no
// cookie; a batch at the cap runs, and each of its calls counts against the rate limits on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueEmail, type ApiResponse, type TestApp } from '../support/harness.js';
import { TOO_MANY, expectNothingStored } from '../support/helpers.js';

const PASSWORD = 'correct horse battery';

/** One POST carrying `count` calls of `path`, each with its own input. */
function batchMutation(app: TestApp, path: string, inputs: unknown[]): Promise<ApiResponse> {
  const paths = inputs.map(() => path).join(',');
  const body = Object.fromEntries(inputs.map((input, index) => [String(index), input]));
  return app.http('POST', `/trpc/${paths}?batch=1`, { body });
}

/** One GET carrying `count` calls of the query `path`. */
function batchQuery(app: TestApp, path: string, count: number, token?: string): Promise<ApiResponse> {
  const paths = Array.from({ length: count }, () => path).join(',');
  return app.http('GET', `/trpc/${paths}?batch=1&input=${encodeURIComponent('{}')}`, { token });
}

const signUps = (count: number) => Array.from({ length: count }, () => ({ email: uniqueEmail('batch'), password: PASSWORD }));

function expectBatchRefused(res: ApiResponse) {
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toStrictEqual({
    error: {
      message: 'Batch call exceeds maximum size',
      code: -32600,
      data: { code: 'BAD_REQUEST', httpStatus: 400 },
    },
  });
}

describe('the default cap (10)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a batch of 11 sign-ups is refused whole: no account, no cookie', async () => {
    const res = await expectNothingStored(app, () => batchMutation(app, 'auth.signUp', signUps(11)));
    expectBatchRefused(res);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('a batch of 10 sign-ups runs every call', async () => {
    const before = await app.count('users');
    const res = await batchMutation(app, 'auth.signUp', signUps(10));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toHaveLength(10);
    for (const item of res.body) expect(item.result.data.token).toEqual(expect.any(String));
    expect(await app.count('users')).toBe(before + 10);
  });

  it('a GET batch of queries is capped too', async () => {
    const user = await app.signUp();
    expectBatchRefused(await batchQuery(app, 'me.get', 11, user.token));
    const res = await batchQuery(app, 'me.get', 10, user.token);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(10);
  });
});

describe('TRPC_MAX_BATCH_SIZE=2, 3 requests a minute', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { TRPC_MAX_BATCH_SIZE: '2', RATE_LIMIT_REQUESTS_PER_MINUTE: '3' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('the configured cap holds', async () => {
    const user = await app.signUp();
    expectBatchRefused(await expectNothingStored(app, () => batchQuery(app, 'me.get', 3, user.token)));
  });

  it('each call of a batch takes its own point from the rate limit', async () => {
    const user = await app.signUp();
    const first = await batchQuery(app, 'me.get', 2, user.token);
    expect(first.body.map((item: any) => Boolean(item.result))).toEqual([true, true]);
    const second = await batchQuery(app, 'me.get', 2, user.token);
    expect(second.status).toBe(207);
    expect(second.body[0].result).toBeDefined();
    expect(second.body[1].error).toMatchObject({ message: TOO_MANY.message, data: { httpStatus: 429 } });
  });
});
