// The single-owner lock of a PGlite data folder (db/src/pglite-lock.ts), in process: a second
// opener is refused with a message naming the owner, a lock whose owner is gone is taken over,
// and closing releases it. The cross-process cases (a second server, the CLI) are in
// test/cluster/pglite-owner.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, DatabaseLockedError, LOCK_FILE, lockDataFolder, users } from '@ai-threads/db';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ai-threads-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited (nothing runs under it now). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('the lock of a PGlite data folder', () => {
  it('refuses a second owner while the first holds the folder, and frees it on release', async () => {
    const first = await lockDataFolder(dir);
    const owner = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, hostname: hostname() });

    const second = await lockDataFolder(dir).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(second).toBeInstanceOf(DatabaseLockedError);
    expect((second as Error).message).toContain(`is in use by process ${process.pid} on ${hostname()}`);

    await first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await lockDataFolder(dir);
    await again.release();
  });

  it('refuses a lock held by another live process', async () => {
    // The parent of this test process is alive for as long as the test runs.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 'earlier' }));
    await expect(lockDataFolder(dir)).rejects.toThrow(`is in use by process ${process.ppid}`);
    // An unreadable lock file is never guessed stale.
    await writeFile(join(dir, LOCK_FILE), '{"pid":');
    await expect(lockDataFolder(dir)).rejects.toThrow('its lock file is unreadable');
  });

  it('takes over a stale lock whose process is gone', async () => {
    const pid = deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, hostname: hostname(), startedAt: 'earlier' }));
    const lock = await lockDataFolder(dir);
    expect(lock.tookOver).toMatchObject({ pid });
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });
});

describe('a PGlite database on a folder', { timeout: 120_000 }, () => {
  it('cannot be opened twice; what the owner wrote is there once it has closed', async () => {
    const first = await createDatabase({ pgliteDir: dir });
    await first.db.insert(users).values({ email: 'owner@example.com', passwordHash: 'x', roleId: 1 });
    await expect(createDatabase({ pgliteDir: dir })).rejects.toBeInstanceOf(DatabaseLockedError);
    await first.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const reopened = await createDatabase({ pgliteDir: dir });
    try {
      expect((await reopened.db.select().from(users)).map((u) => u.email)).toEqual(['owner@example.com']);
    } finally {
      await reopened.close();
    }
  });
});
