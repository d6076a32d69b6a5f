// The operator CLI (server/src/cli.ts), run as a child process the way an operator runs it: on a
// PGlite data folder in a temp dir, or on a fresh PostgreSQL database when DATABASE_URL is set.
// The users and tokens it makes are then checked in the tables and through the API.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, users, type DatabaseHandle } from '@ai-threads/db';
import { eq } from 'drizzle-orm';
import { configWith, createApp, createLogger, createMemoryRateLimiter, createServices } from '@ai-threads/server';
// The password check is internal: the test reads back the hash the CLI stored.
import { verifyPassword } from '../../server/src/auth/passwords.js';
import { freshDatabase, onPostgres, uniqueEmail } from '../support/harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let env: NodeJS.ProcessEnv;
/** Opens the database the CLI wrote to (PGlite: only once the CLI has exited; it has one owner). */
let openDatabase: () => Promise<DatabaseHandle>;
let cleanup: () => Promise<void>;

function cli(...args: string[]): Promise<Run> {
  return cliWith({}, ...args);
}

/** Runs the CLI with more environment; a run that has not exited after 80 s is killed (code -1). */
function cliWith(extra: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const options = { cwd: root, env: { ...env, ...extra }, timeout: 80_000 };
    execFile(tsx, ['--conditions=@ai-threads/source', 'server/src/cli.ts', ...args], options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const base = { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'test' };
  if (onPostgres) {
    const db = await freshDatabase();
    env = { ...base, DATABASE_URL: db.url };
    openDatabase = async () => db.handle;
    cleanup = async () => {
      await db.handle.close();
      await db.drop();
    };
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'ai-threads-cli-'));
    env = { ...base, PGLITE_DIR: join(dir, 'pglite') };
    delete env['DATABASE_URL'];
    let handle: DatabaseHandle | undefined;
    openDatabase = async () => (handle ??= await createDatabase({ pgliteDir: join(dir, 'pglite') }));
    cleanup = async () => {
      await handle?.close();
      await rm(dir, { recursive: true, force: true });
    };
  }
});

afterAll(async () => {
  await cleanup?.();
});

describe('cli: usage errors (exit 2, before any database is opened)', () => {
  it('refuses a missing command, unknown flags and invalid values', async () => {
    const [none, flag, invalid, permission] = await Promise.all([
      cli(),
      cli('roles:list', '--all'),
      cli('users:create', '--email', 'not-an-email', '--password', 'short'),
      cli('tokens:create', '--email', 'a@example.com', '--name', 'x', '--permissions', 'ai_threads.view,threads.nuke'),
    ]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toContain('users:create --email E --password P');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--all'");
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('--email: The email field must be a valid email address.');
    expect(invalid.stderr).toContain('--password: The password field must be at least 8 characters.');
    expect(permission.code).toBe(2);
    expect(permission.stderr).toContain('--permissions: unknown threads.nuke');
  });
});

describe('cli: with Redis configured', { timeout: 120_000 }, () => {
  it('exits once its command is done (the Redis connection is closed too)', async () => {
    const run = await cliWith({ REDIS_URL: process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379/7' }, 'roles:list');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).map((r: { name: string }) => r.name)).toEqual(['member', 'viewer']);
  });
});

// Each run boots tsx and opens the database (PGlite: a WASM PostgreSQL, slow on a busy machine).
describe('cli: on the service database', { timeout: 90_000 }, () => {
  const email = uniqueEmail('viewer');
  const password = 'correct horse battery';
  let userId: number;
  let token: string;
  let tokenId: number;

  it('lists the roles with their permissions', async () => {
    const run = await cli('roles:list');
    expect(run.code, run.stderr).toBe(0);
    const roles = JSON.parse(run.stdout) as Array<{ name: string; permissions: string[] }>;
    expect(roles.find((r) => r.name === 'viewer')?.permissions).toEqual(['ai_thread_messages.view', 'ai_threads.view', 'api_tokens.manage']);
    expect(roles.find((r) => r.name === 'member')?.permissions).toHaveLength(7);
  });

  it('creates a viewer and prints it', async () => {
    const run = await cli('users:create', '--email', email.toUpperCase(), '--password', password, '--name', 'Vee', '--role', 'viewer');
    expect(run.code, run.stderr).toBe(0);
    const user = JSON.parse(run.stdout);
    expect(user).toMatchObject({ email, name: 'Vee', role: 'viewer' });
    expect(Object.keys(user).sort()).toEqual(['created_at', 'email', 'id', 'name', 'role']);
    userId = user.id;
  });

  it('refuses an unknown role (exit 2) and a permission the user does not hold (exit 1)', async () => {
    const role = await cli('users:create', '--email', uniqueEmail(), '--password', password, '--role', 'admin');
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('no role is named "admin" (roles: member, viewer)');

    const held = await cli('tokens:create', '--email', email, '--name', 'too much', '--permissions', 'ai_threads.create');
    expect(held).toMatchObject({ code: 1, stdout: '' });
    expect(held.stderr).toContain('must be a permission you hold (ai_threads.create is not)');
  });

  it('creates an API token and prints its secret once', async () => {
    const run = await cli('tokens:create', '--email', email, '--name', 'reports', '--permissions', 'ai_threads.view', '--expires-at', '2099-01-01T00:00:00Z');
    expect(run.code, run.stderr).toBe(0);
    const created = JSON.parse(run.stdout);
    expect(created.api_token).toMatchObject({ name: 'reports', permissions: ['ai_threads.view'], expires_at: '2099-01-01T00:00:00.000Z' });
    expect(created.token).toMatch(/^ait_/);
    token = created.token;
    tokenId = created.api_token.id;
  });

  it('wrote a real user (argon2 hash, viewer role) and a token that authenticates', async () => {
    const database = await openDatabase();
    const [row] = await database.db.select().from(users).where(eq(users.id, userId));
    expect(row?.email).toBe(email);
    expect(await verifyPassword(row!.passwordHash, password)).toBe(true);

    const config = configWith({ LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    const services = createServices({ config, database, logger: createLogger('error'), limiter: createMemoryRateLimiter() });
    const server = createApp(services).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/me`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        user: { id: userId, email, role: 'viewer' },
        permissions: ['ai_threads.view'],
        auth: { type: 'api_token', api_token_id: tokenId },
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe.skipIf(onPostgres)('cli: on a PGlite folder another process holds', { timeout: 90_000 }, () => {
  it('refuses (exit 1, naming the owner) and writes nothing', async () => {
    // The test process holds the folder now, as a running server would.
    const database = await openDatabase();
    const before = await database.db.select().from(users);
    const email = uniqueEmail('refused');
    const run = await cli('users:create', '--email', email, '--password', 'correct horse battery');
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(`is in use by process ${process.pid}`);
    expect(run.stderr).toContain('PGlite allows one process per folder');
    expect(await database.db.select().from(users)).toEqual(before);
  });
});
