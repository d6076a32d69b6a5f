// A PostgreSQL database that refuses connections (ALTER DATABASE ... ALLOW_CONNECTIONS false, its
// backends terminated: SQLSTATE 57P01 on the pooled connections, then 55000 on every new one)
// makes the service unavailable, not broken: 503 with Retry-After on both faces, and the log,
// read back, holds none of the values the failed queries carried. PostgreSQL only: PGlite runs
// in the process and cannot refuse connections.
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ai-threads/server';
import { onPostgres, startTestApp, uniqueEmail, type TestApp, type TestUser } from '../support/harness.js';
import { query, trpc } from '../support/helpers.js';

const UNAVAILABLE = { message: 'The database is unavailable; retry shortly.' };

describe.skipIf(!onPostgres)('a database that refuses connections (PostgreSQL only: set DATABASE_URL)', () => {
  const lines: string[] = [];
  let app: TestApp;
  let user: TestUser;
  let admin: postgres.Sql;
  let name: string;
  const email = uniqueEmail('outage');
  const password = 'outage-password-4711';
  const title = 'outage-title-0815';

  beforeAll(async () => {
    app = await startTestApp({ logger: createLogger('info', { write: (line: string) => void lines.push(line) }) });
    user = await app.signUp(email, password);
    [{ name }] = (await query<{ name: string }>(app, sql`select current_database() as name`)) as [{ name: string }];
    admin = postgres(process.env['DATABASE_URL']!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`alter database "${name}" allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
  });

  afterAll(async () => {
    await admin?.unsafe(`alter database "${name}" allow_connections true`);
    await admin?.end();
    await app?.close();
  });

  it('answers 503 with Retry-After on REST and tRPC, logging no query values, and recovers', async () => {
    const calls = {
      'REST list': () => app.api('GET', '/ai/threads', { token: user.token }),
      'REST create': () => app.api('POST', '/ai/threads', { token: user.token, body: { title } }),
      'REST sign-in': () => app.api('POST', '/auth/sign-in', { body: { email, password } }),
      'tRPC list': () => trpc(app, 'query', 'threads.list', {}, { token: user.token }),
      'tRPC create': () => trpc(app, 'mutation', 'threads.create', { title }, { token: user.token }),
      'tRPC sign-in': () => trpc(app, 'mutation', 'auth.signIn', { email, password }),
    };
    for (const [label, call] of Object.entries(calls)) {
      // Twice: the first query may meet a terminated connection, every later one a refused connect.
      for (const attempt of [1, 2]) {
        const res = await call();
        expect(res.status, `${label} #${attempt}: ${res.text}`).toBe(503);
        expect(res.headers.get('retry-after'), label).toBe('5');
        if (label.startsWith('REST')) expect(res.body, label).toEqual(UNAVAILABLE);
        else expect(res.body.error, label).toMatchObject({ message: UNAVAILABLE.message, data: { httpStatus: 503, retryAfter: 5 } });
      }
    }
    expect((await app.http('GET', '/readyz')).status).toBe(503);

    const log = lines.join('');
    expect(log).toContain('"status":503');
    for (const secret of [email, password, title, user.token]) expect(log).not.toContain(secret);

    await admin.unsafe(`alter database "${name}" allow_connections true`);
    const list = await app.api('GET', '/ai/threads', { token: user.token });
    expect(list.status, list.text).toBe(200);
  });
});
