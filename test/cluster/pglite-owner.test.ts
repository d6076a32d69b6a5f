// One PGlite data folder, one process (the built server and CLI, as an operator runs them): a
// second server on the folder of a running one exits non-zero with a message naming the owner,
// and the first keeps serving; the CLI is refused the same way and writes nothing; a clean stop
// releases the folder and a restart finds everything the first wrote; a lock left by a process
// that is gone is taken over.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newThread, signUp, type User } from './support/api.js';
import { closedPort } from './support/backing.js';
import { runToExit, startInstance, stopAll, type Instance } from './support/instances.js';

const LOCK = 'ai-threads.lock';
let dir: string;
let env: Record<string, string>;
let first: Instance | undefined;
let restarted: Instance | undefined;
let afterStale: Instance | undefined;
let user: User;
let threadId: number;
const cliEmail = `cli-${process.pid}@example.com`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ai-threads-owner-'));
  env = { PGLITE_DIR: join(dir, 'pglite'), OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` };
  first = await startInstance('A (owns the folder)', env);
  user = await signUp(first);
  threadId = (await newThread(first, user, { title: 'Written by A' })).id;
});

afterAll(async () => {
  await stopAll(first, restarted, afterStale);
  await rm(dir, { recursive: true, force: true });
});

const signIn = (instance: Instance, email: string) =>
  instance.api('POST', '/auth/sign-in', { body: { email, password: 'correct horse battery' } });

describe('a PGlite folder has one owner', () => {
  it('refuses a second server on the folder (exit 1, naming the owner) while the first keeps serving', async () => {
    const second = await runToExit('main', env);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`is in use by process ${first!.pid} on ${hostname()}`);
    expect(second.stderr).toContain('PGlite allows one process per folder');
    expect(second.stderr).not.toMatch(/\n\s+at /);

    expect(first!.running).toBe(true);
    const read = await first!.api('GET', `/ai/threads/${threadId}`, { token: user.token });
    expect(read.status, read.text).toBe(200);
    expect((await newThread(first!, user, { title: 'Also by A' })).title).toBe('Also by A');
  });

  it('refuses the CLI on the folder of the running server, and it writes nothing', async () => {
    const run = await runToExit('cli', env, ['users:create', '--email', cliEmail, '--password', 'correct horse battery']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`is in use by process ${first!.pid}`);
    expect((await signIn(first!, cliEmail)).status).toBe(422);
  });

  it('releases the folder on a clean stop; the restarted server has everything the first wrote', async () => {
    first!.signal('SIGTERM');
    expect((await first!.exited).code).toBe(0);
    expect(existsSync(join(env['PGLITE_DIR']!, LOCK))).toBe(false);

    restarted = await startInstance('A again', env);
    expect((await signIn(restarted, user.email)).status).toBe(200);
    const threads = await restarted.api('GET', '/ai/threads', { token: user.token });
    expect(threads.body.data.map((t: { title: string }) => t.title).sort()).toEqual(['Also by A', 'Written by A']);
    expect((await signIn(restarted, cliEmail)).status).toBe(422);
    restarted.signal('SIGTERM');
    expect((await restarted.exited).code).toBe(0);
  });

  it('takes over a lock whose process is gone', async () => {
    const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    await writeFile(join(env['PGLITE_DIR']!, LOCK), JSON.stringify({ pid: gone, hostname: hostname(), startedAt: 'earlier' }));

    afterStale = await startInstance('A after a crash', env);
    const warning = await afterStale.waitForLog((line) => /took over the PGlite folder/.test(line.msg ?? ''), 'the takeover');
    expect(warning['previousOwner']).toMatchObject({ pid: gone });
    expect((await signIn(afterStale, user.email)).status).toBe(200);
  });
});
