// The sign-in throttle bounds password guesses even when they arrive together: parallel requests
// on either face and the calls of one tRPC batch each take their point before the password is
// checked, so no more than SIGN_IN_ATTEMPTS_PER_MINUTE_PER_EMAIL of them are ever evaluated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp } from '../support/harness.js';
import { TOO_MANY, expectNothingStored, trpc } from '../support/helpers.js';

const PASSWORD = 'correct horse battery';
const WRONG = { message: 'These credentials do not match our records.' };

/** How many answers had each status. */
function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe('parallel wrong passwords for one email (limit 10)', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Every request comes from 127.0.0.1: the per-IP budget is raised so only the email's counts.
    app = await startTestApp({ env: { SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: '1000' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('50 at once on REST: 10 are checked (422), 40 are refused unchecked (429); then even the right password waits', async () => {
    const user = await app.signUp();
    const answers = await expectNothingStored(app, () =>
      Promise.all(
        Array.from({ length: 50 }, () =>
          app.api('POST', '/auth/sign-in', { body: { email: user.email, password: 'wrong password' } }),
        ),
      ),
    );
    expect(tally(answers.map((res) => res.status))).toEqual({ 422: 10, 429: 40 });
    for (const res of answers) expect(res.body).toMatchObject(res.status === 422 ? WRONG : TOO_MANY);

    const right = await app.api('POST', '/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(right.status).toBe(429);
  });

  it('50 at once on tRPC, the email spelled in varying case: 10 are checked, 40 refused', async () => {
    const user = await app.signUp();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        trpc(app, 'mutation', 'auth.signIn', {
          email: i % 2 ? user.email.toUpperCase() : user.email,
          password: 'wrong password',
        }),
      ),
    );
    expect(tally(answers.map((res) => res.status))).toEqual({ 422: 10, 429: 40 });
    expect(tally(answers.map((res) => res.body.error.data.httpStatus))).toEqual({ 422: 10, 429: 40 });
  });
});

describe('one tRPC batch of sign-ins (limit 3)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      env: { SIGN_IN_ATTEMPTS_PER_MINUTE_PER_EMAIL: '3', SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: '1000' },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** `auth.signIn` n times in one HTTP request, inputs keyed "0", "1", ... */
  function batch(inputs: unknown[]): Promise<ApiResponse> {
    const paths = inputs.map(() => 'auth.signIn').join(',');
    const body = Object.fromEntries(inputs.map((input, i) => [String(i), input]));
    return app.http('POST', `/trpc/${paths}?batch=1`, { body });
  }

  it('a batch of 8 guesses has 3 checked (422) and 5 refused unchecked (429)', async () => {
    const user = await app.signUp();
    const res = await expectNothingStored(app, () =>
      batch(Array.from({ length: 8 }, () => ({ email: user.email, password: 'wrong password' }))),
    );
    expect(Array.isArray(res.body)).toBe(true);
    const statuses = (res.body as Array<{ error: { message: string; data: { httpStatus: number } } }>).map(
      (item) => item.error.data.httpStatus,
    );
    expect(tally(statuses)).toEqual({ 422: 3, 429: 5 });
  });
});
