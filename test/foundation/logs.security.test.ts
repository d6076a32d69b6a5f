// What the logs never hold, read back from the app's own log: passwords (tRPC GET inputs are in
// the query string), message contents (a subscription's input is in its URL), bearer tokens and
// session cookies, and the values of SQL queries (drizzle puts them in the message of its errors,
// PostgreSQL puts a row's values in `detail`). The request line keeps the path and the operation.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '@ai-threads/db';
import { createLogger } from '@ai-threads/server';
import { startTestApp, uniqueEmail, type TestApp, type TestUser } from '../support/harness.js';
import { cookieHeaders, trpc } from '../support/helpers.js';

const PASSWORD = 'log-secret-password-93141';
const WRONG_PASSWORD = 'log-wrong-password-27182';
const CONTENT = 'log-secret-content-16180';
const SQL_VALUE = 'log-secret-sql-value-14142';

const lines: string[] = [];
let app: TestApp;
let user: TestUser;

beforeAll(async () => {
  app = await startTestApp({ logger: createLogger('debug', { write: (line: string) => void lines.push(line) }) });
  user = await app.signUp(uniqueEmail('logs'), PASSWORD);
});
afterAll(async () => {
  await app?.close();
});

/** Reads a streamed response until its answer completes, then lets it go. */
async function readStream(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('response.completed')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe('the logs', () => {
  it('hold no password, message content, token, cookie or SQL value after hostile calls', async () => {
    const signIn = { email: user.email, password: PASSWORD };
    const wrong = { email: user.email, password: WRONG_PASSWORD };
    const getSignIn = await app.http('GET', `/trpc/auth.signIn?input=${encodeURIComponent(JSON.stringify(signIn))}`);
    expect(getSignIn.status).toBe(405);
    expect((await trpc(app, 'mutation', 'auth.signIn', wrong)).status).toBe(422);
    expect((await trpc(app, 'mutation', 'auth.signIn', signIn)).status).toBe(200);
    expect((await app.api('POST', '/auth/sign-in', { body: wrong })).status).toBe(422);
    expect((await app.api('GET', `/me?password=${PASSWORD}`, { token: user.token })).status).toBe(200);
    expect((await app.api('GET', '/me', { headers: cookieHeaders(user.token) })).status).toBe(200);
    expect((await app.api('GET', '/me', { token: `${user.token}x` })).status).toBe(401);

    const thread = await app.api('POST', '/ai/threads', { token: user.token, body: {} });
    const input = encodeURIComponent(JSON.stringify({ threadId: thread.body.id, content: CONTENT }));
    const subscription = await fetch(`${app.url}/trpc/messages.stream?input=${input}`, {
      headers: { authorization: `Bearer ${user.token}`, accept: 'text/event-stream' },
    });
    expect(subscription.status).toBe(200);
    expect(await readStream(subscription)).toContain('response.completed');

    // Database errors as the services log them: a value PostgreSQL rejects, and a unique violation
    // whose `detail` quotes the row.
    const failures = [
      await app.database.db.execute(sql`select ${SQL_VALUE}::int`).catch((error: unknown) => error),
      await app.database.db
        .insert(users)
        .values({ email: user.email, passwordHash: SQL_VALUE, roleId: 1 })
        .catch((error: unknown) => error),
    ];
    for (const err of failures) {
      expect(err).toBeInstanceOf(Error);
      app.services.logger.error({ err }, 'unhandled error');
    }

    const log = lines.join('');
    expect(log).toContain('"path":"/trpc/auth.signIn"');
    expect(log).toContain('"operation":"auth.signIn"');
    expect(log).toContain('"path":"/trpc/messages.stream"');
    expect(log).toContain('"operation":"messages.stream"');
    expect(log).toContain('Failed query: select $1::int');
    expect(log).toContain('Failed query: insert into \\"users\\"');
    for (const secret of [PASSWORD, WRONG_PASSWORD, CONTENT, SQL_VALUE, user.token, user.email]) {
      expect(log, secret).not.toContain(secret);
    }
  });
});
