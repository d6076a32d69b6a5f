// Sign-up and sign-in refusals: Laravel-style 422 bodies (message with "(and N more errors)", field
// errors), the same on the REST face, the raw tRPC face and the typed client; nothing is stored.
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@ai-threads/server';
import { startTestApp, uniqueEmail, type TestApp } from '../support/harness.js';
import { expectNothingStored, expectRestError, expectTrpcError, trpc, typedClient } from '../support/helpers.js';

const PASSWORD = 'correct horse battery';
const BAD_CREDENTIALS = {
  message: 'These credentials do not match our records.',
  errors: { email: ['These credentials do not match our records.'] },
};

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('POST /auth/sign-up refusals', () => {
  it('one error: the message is that error', async () => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-up', { body: { email: 'not-an-email', password: PASSWORD } }),
    );
    expectRestError(res, 422, {
      message: 'The email field must be a valid email address.',
      errors: { email: ['The email field must be a valid email address.'] },
    });
  });

  it('two errors: "(and 1 more error)"', async () => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-up', { body: { email: 'not-an-email', password: 'short' } }),
    );
    expectRestError(res, 422, {
      message: 'The email field must be a valid email address. (and 1 more error)',
      errors: {
        email: ['The email field must be a valid email address.'],
        password: ['The password field must be at least 8 characters.'],
      },
    });
  });

  it('three errors: "(and 2 more errors)"', async () => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-up', { body: { email: 'not-an-email', password: 'short', name: '' } }),
    );
    expectRestError(res, 422, {
      message: 'The email field must be a valid email address. (and 2 more errors)',
      errors: {
        email: ['The email field must be a valid email address.'],
        password: ['The password field must be at least 8 characters.'],
        name: ['The name field is required.'],
      },
    });
  });

  it('one field with two errors: "(and 1 more error)", counting messages, not fields, on both faces', async () => {
    const body = { email: uniqueEmail(), password: PASSWORD, name: `${'n'.repeat(100)}\u0000` };
    const message = 'The name field must not be greater than 100 characters. (and 1 more error)';
    const errors = {
      name: ['The name field must not be greater than 100 characters.', 'The name field must not contain NUL characters.'],
    };
    expectRestError(await expectNothingStored(app, () => app.api('POST', '/auth/sign-up', { body })), 422, { message, errors });
    expectTrpcError(await expectNothingStored(app, () => trpc(app, 'mutation', 'auth.signUp', body)), 422, message, errors);
  });

  it('names every missing field as required', async () => {
    const res = await expectNothingStored(app, () => app.api('POST', '/auth/sign-up', { body: {} }));
    expectRestError(res, 422, {
      message: 'The email field is required. (and 1 more error)',
      errors: { email: ['The email field is required.'], password: ['The password field is required.'] },
    });
  });

  it('says which type a field must have', async () => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-up', { body: { email: uniqueEmail(), password: 12345678 } }),
    );
    expectRestError(res, 422, {
      message: 'The password field must be a string.',
      errors: { password: ['The password field must be a string.'] },
    });
  });

  it('refuses an email already taken, whatever its case: 422 on email', async () => {
    const user = await app.signUp();
    for (const email of [user.email, user.email.toUpperCase()]) {
      const res = await expectNothingStored(app, () =>
        app.api('POST', '/auth/sign-up', { body: { email, password: 'another password' } }),
      );
      expectRestError(res, 422, {
        message: 'The email has already been taken.',
        errors: { email: ['The email has already been taken.'] },
      });
    }
  });
});

describe('POST /auth/sign-in refusals', () => {
  it('a wrong password: 422 on email, Laravel\'s way, and no session', async () => {
    const user = await app.signUp();
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-in', { body: { email: user.email, password: 'wrong password' } }),
    );
    expectRestError(res, 422, BAD_CREDENTIALS);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('an unknown email: the very same answer, so accounts cannot be discovered', async () => {
    const res = await expectNothingStored(app, () =>
      app.api('POST', '/auth/sign-in', { body: { email: uniqueEmail('nobody'), password: PASSWORD } }),
    );
    expectRestError(res, 422, BAD_CREDENTIALS);
  });

  it('missing fields: 422 naming each', async () => {
    const res = await expectNothingStored(app, () => app.api('POST', '/auth/sign-in', { body: { email: 'a@b.co' } }));
    expectRestError(res, 422, {
      message: 'The password field is required.',
      errors: { password: ['The password field is required.'] },
    });
  });
});

describe('the tRPC face', () => {
  it('answers the same status, message and field errors as REST', async () => {
    const input = { email: 'not-an-email', password: 'short', name: '' };
    const rest = await app.api('POST', '/auth/sign-up', { body: input });
    const res = await expectNothingStored(app, () => trpc(app, 'mutation', 'auth.signUp', input));
    expectTrpcError(res, 422, rest.body.message, rest.body.errors);
    expect(res.body.error.data.code).toBe('UNPROCESSABLE_CONTENT');
  });

  it('refuses bad credentials as REST does', async () => {
    const user = await app.signUp();
    const res = await trpc(app, 'mutation', 'auth.signIn', { email: user.email, password: 'wrong password' });
    expectTrpcError(res, 422, BAD_CREDENTIALS.message, BAD_CREDENTIALS.errors);
  });

  it('gives the typed client a TRPCClientError carrying the field errors and the HTTP status', async () => {
    const user = await app.signUp();
    const error = await typedClient(app)
      .auth.signUp.mutate({ email: user.email, password: PASSWORD })
      .then(() => undefined, (e: unknown) => e);

    expect(error).toBeInstanceOf(TRPCClientError);
    const clientError = error as TRPCClientError<AppRouter>;
    expect(clientError.message).toBe('The email has already been taken.');
    expect(clientError.data).toMatchObject({
      httpStatus: 422,
      code: 'UNPROCESSABLE_CONTENT',
      errors: { email: ['The email has already been taken.'] },
    });
  });
});
