// The SDK's typed errors from the real service: 422 with field errors, 404 for another user's
// thread, 401, 403, 429 with Retry-After and the rate-limit headers; and the errors no answer
// gives: a timeout, an abort, a refused connection.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AiThreads,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AiThreadsError,
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  ValidationError,
} from '../../client-sdk/src/index.js';
import { harness, type TestApp } from '../support/harness.js';
import { expectStoresNothing, inFlight } from '../support/threads.js';
import { sdk } from './helpers.js';

const { app, fake, startApp } = await harness();

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  );
}

describe('answers with an error status', () => {
  it('422: a ValidationError with every field error, storing nothing', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    const error = await expectStoresNothing(app, () =>
      rejection(client.messages.create(thread.id, { content: '   ', state: [1, 2] as never })),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(AiThreadsError);
    const validation = error as ValidationError;
    expect(validation.status).toBe(422);
    expect(Object.keys(validation.errors).sort()).toEqual(['content', 'state']);
    expect(validation.errors['content']).toEqual([expect.any(String)]);
    expect(validation.body).toEqual({ message: validation.message, errors: validation.errors });
    expect(validation.message).toMatch(/\(and 1 more error\)$/);
    expect(validation.requestId).toEqual(expect.any(String));
    expect(validation.headers.get('x-request-id')).toBe(validation.requestId);
  });

  it("404: another user's thread does not exist", async () => {
    const owner = await app.signUp();
    const thread = await sdk(app, owner).threads.create({ title: 'Private' });
    const stranger = sdk(app, await app.signUp());
    const error = await rejection(stranger.threads.retrieve(thread.id));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, body: { message: expect.any(String) } });
    await expect(stranger.messages.create(thread.id, { content: 'Hi' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('401: no or unknown credentials', async () => {
    const error = await rejection(sdk(app, 'sess_unknown.token').threads.list());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, message: 'Unauthenticated.', body: { message: 'Unauthenticated.' } });
    await expect(sdk(app).me.retrieve()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('403: a token without the permission', async () => {
    const user = await app.signUp();
    const { token } = await sdk(app, user).apiTokens.create({ name: 'read only', permissions: ['ai_threads.view'] });
    const error = await rejection(sdk(app, token).threads.create({ title: 'Nope' }));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, message: 'This action is unauthorized.' });
  });
});

describe('429', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startApp({ model: 'offline', env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
  });

  it('a RateLimitError with retryAfter, limit and remaining, when retries are off', async () => {
    const client = sdk(limited, await limited.signUp(), { maxRetries: 0 });
    const thread = await client.threads.create();
    await client.messages.create(thread.id, { content: 'First' });
    const before = await limited.count('messages');

    const error = await rejection(client.messages.create(thread.id, { content: 'Second' }));
    expect(error).toBeInstanceOf(RateLimitError);
    const limit = error as RateLimitError;
    expect(limit).toMatchObject({ status: 429, message: 'Too Many Attempts.', limit: 1, remaining: 0 });
    expect(limit.retryAfter).toBeGreaterThan(0);
    expect(limit.retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.count('messages')).toBe(before);
    await expect(client.messages.stream(thread.id, { content: 'Third' }).finalMessage()).rejects.toBeInstanceOf(RateLimitError);
  });
});

describe('no answer', () => {
  it('a timeout is an APIConnectionTimeoutError; the message can then be cancelled', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    fake.script({ type: 'hang' });
    const error = await rejection(client.messages.create(thread.id, { content: 'Slow' }, { timeout: 300, maxRetries: 0 }));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error).toBeInstanceOf(APIConnectionError);

    const pending = (await client.messages.list(thread.id)).data[0]!;
    expect(pending.status).toBe('pending');
    await client.messages.cancel(thread.id, pending.id);
  });

  it('an abort is an APIUserAbortError, for calls and streams', async () => {
    const user = await app.signUp();
    const client = sdk(app, user);
    const thread = await client.threads.create();
    fake.script({ type: 'hang' });
    const controller = new AbortController();
    const call = await inFlight(fake, () => rejection(client.messages.create(thread.id, { content: 'Stop' }, { signal: controller.signal })));
    controller.abort();
    expect(await call.done).toBeInstanceOf(APIUserAbortError);
    const pending = (await client.messages.list(thread.id)).data[0]!;
    await client.messages.cancel(thread.id, pending.id);

    fake.script({ type: 'hang' });
    const stream = client.messages.stream(thread.id, { content: 'Stop streaming' });
    const names: string[] = [];
    const reading = rejection(
      (async () => {
        for await (const event of stream) {
          names.push(event.event);
          if (event.event === 'message.created') stream.abort();
        }
      })(),
    );
    expect(await reading).toBeInstanceOf(APIUserAbortError);
    expect(names).toEqual(['message.created']);
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(APIUserAbortError);
    const streamed = (await client.messages.list(thread.id)).data.at(-1)!;
    await client.messages.cancel(thread.id, streamed.id);
  });

  it('a refused connection is an APIConnectionError after the retries', async () => {
    const attempts: string[] = [];
    const client = new AiThreads({
      baseURL: 'http://127.0.0.1:1',
      apiKey: 'k',
      maxRetries: 1,
      fetch: (url, init) => {
        attempts.push(url);
        return fetch(url, init);
      },
    });
    const error = await rejection(client.threads.list());
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(error).toMatchObject({ status: undefined, requestId: null });
    expect(attempts).toEqual(['http://127.0.0.1:1/api/v1/ai/threads', 'http://127.0.0.1:1/api/v1/ai/threads']);
  });
});
