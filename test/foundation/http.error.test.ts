// Requests the service cannot take (malformed JSON, a body over MAX_BODY_BYTES, another content
// type, an unknown route), and the same error on both faces: REST bodies exactly `{message}` (and
// `errors` for 422); tRPC with the same HTTP status, message and field errors. Nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueEmail, type ApiResponse, type TestApp, type TestUser } from '../support/harness.js';
import {
  FORBIDDEN,
  UNAUTHENTICATED,
  cookieHeaders,
  expectNothingStored,
  expectRestError,
  expectTrpcError,
  trpc,
} from '../support/helpers.js';

const MAX_BODY_BYTES = 2048;
const NOT_JSON = { message: 'The request body is not valid JSON.' };
const TOO_LARGE = { message: 'The request body is too large.' };

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp({ env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
  user = await app.signUp();
});
afterAll(async () => {
  await app?.close();
});

const json = { 'content-type': 'application/json' };
/** A sign-up body of about 4 KB: twice the limit. */
const oversize = () => JSON.stringify({ email: uniqueEmail('big'), password: 'p'.repeat(4096) });

describe('400: the body is not JSON', () => {
  it.each([
    ['truncated', '{"email":'],
    ['not JSON at all', 'email=a@b.co'],
    ['single quotes', "{'email': 'a@b.co'}"],
  ])('%s, on REST', async (_label, raw) => {
    const res = await expectNothingStored(app, () => app.api('POST', '/auth/sign-up', { raw, headers: json }));
    expectRestError(res, 400, NOT_JSON);
  });

  it('on tRPC, the same status and message', async () => {
    const res = await expectNothingStored(app, () => app.http('POST', '/trpc/auth.signUp', { raw: '{"email":', headers: json }));
    expectTrpcError(res, 400, NOT_JSON.message);
  });

  it.each([
    ['a string', '"hello"'],
    ['an array', '[{"email":"a@b.co"}]'],
    ['a number', '42'],
  ])('valid JSON that is not an object (%s): 422 on body, on both faces', async (_label, raw) => {
    const message = 'The body field must be an object.';
    const rest = await expectNothingStored(app, () => app.api('POST', '/auth/sign-up', { raw, headers: json }));
    expectRestError(rest, 422, { message, errors: { body: [message] } });
    const rpc = await expectNothingStored(app, () => app.http('POST', '/trpc/auth.signUp', { raw, headers: json }));
    expectTrpcError(rpc, 422, message, { body: [message] });
  });
});

describe('413: the body is over MAX_BODY_BYTES', () => {
  it('on REST', async () => {
    const res = await expectNothingStored(app, () => app.api('POST', '/auth/sign-up', { raw: oversize(), headers: json }));
    expectRestError(res, 413, TOO_LARGE);
  });

  it('on tRPC, the same status and message', async () => {
    const res = await expectNothingStored(app, () => app.http('POST', '/trpc/auth.signUp', { raw: oversize(), headers: json }));
    expectTrpcError(res, 413, TOO_LARGE.message);
  });

  it('a body just under the limit is read', async () => {
    const body = { email: uniqueEmail('fits'), password: 'p'.repeat(200), name: 'n'.repeat(100) };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(MAX_BODY_BYTES);
    expect((await app.api('POST', '/auth/sign-up', { body })).status).toBe(201);
  });
});

describe('415: another content type', () => {
  it('a form body is refused on both faces, with a JSON message', async () => {
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const rest = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-up', { raw: 'email=a%40b.co&password=12345678', headers }),
    );
    expect(rest.status).toBe(415);
    expect(Object.keys(rest.body)).toEqual(['message']);
    const rpc = await expectNothingStored(app, () =>
      app.http('POST', '/trpc/auth.signUp', { raw: 'email=a%40b.co&password=12345678', headers }),
    );
    expectTrpcError(rpc, 415, rest.body.message);
  });
});

describe('404: unknown routes', () => {
  it.each([
    ['GET', '/api/v1/no-such-route'],
    ['POST', '/api/v1/no-such-route'],
    ['GET', '/api/v1/me/extra'],
    ['DELETE', '/api/v1/me'],
    ['GET', '/nowhere'],
  ])('%s %s: JSON {message}', async (method, path) => {
    const res = await expectNothingStored(app, () => app.http(method, path, { token: user.token }));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(['message']);
    expect(res.body.message).toEqual(expect.any(String));
  });

  it('an unknown tRPC procedure: 404 with the tRPC error shape', async () => {
    const res = await app.http('GET', '/trpc/no.such.procedure');
    expect(res.status).toBe(404);
    expect(res.body.error.data.httpStatus).toBe(404);
  });
});

/**
 * One failing call per status, on both faces: the REST body is exactly {message} or
 * {message, errors}; tRPC answers the same status and message, with the errors in data.errors.
 */
describe('the same error on both faces', () => {
  interface Case {
    status: number;
    rest: () => Promise<ApiResponse>;
    trpc: () => Promise<ApiResponse>;
  }
  const cases: Record<string, Case> = {
    '400 malformed JSON': {
      status: 400,
      rest: () => app.api('POST', '/auth/sign-in', { raw: '{', headers: json }),
      trpc: () => app.http('POST', '/trpc/auth.signIn', { raw: '{', headers: json }),
    },
    '401 no credentials': {
      status: 401,
      rest: () => app.api('GET', '/api-tokens'),
      trpc: () => trpc(app, 'query', 'apiTokens.list', {}),
    },
    '403 cross-site cookie mutation': {
      status: 403,
      rest: () => app.api('POST', '/api-tokens', { headers: cookieHeaders(user.token), body: { name: 'x', permissions: [] } }),
      trpc: () =>
        trpc(app, 'mutation', 'apiTokens.create', { name: 'x', permissions: [] }, { headers: cookieHeaders(user.token) }),
    },
    '404 no such token': {
      status: 404,
      rest: () => app.api('DELETE', '/api-tokens/424242', { token: user.token }),
      trpc: () => trpc(app, 'mutation', 'apiTokens.revoke', { id: 424242 }, { token: user.token }),
    },
    '413 body too large': {
      status: 413,
      rest: () => app.api('POST', '/auth/sign-in', { raw: oversize(), headers: json }),
      trpc: () => app.http('POST', '/trpc/auth.signIn', { raw: oversize(), headers: json }),
    },
    '422 validation': {
      status: 422,
      rest: () => app.api('POST', '/api-tokens', { token: user.token, body: { name: '', permissions: ['nope'] } }),
      trpc: () => trpc(app, 'mutation', 'apiTokens.create', { name: '', permissions: ['nope'] }, { token: user.token }),
    },
  };

  it.each(Object.entries(cases))('%s', async (_label, { status, rest, trpc: viaTrpc }) => {
    const restRes = await expectNothingStored(app, rest);
    expect(restRes.status).toBe(status);
    expect(Object.keys(restRes.body).sort()).toEqual(status === 422 ? ['errors', 'message'] : ['message']);
    if (status === 401) expect(restRes.body).toStrictEqual(UNAUTHENTICATED);
    if (status === 403) expect(restRes.body).toStrictEqual(FORBIDDEN);

    const trpcRes = await expectNothingStored(app, viaTrpc);
    expectTrpcError(trpcRes, status, restRes.body.message, restRes.body.errors);
  });
});
