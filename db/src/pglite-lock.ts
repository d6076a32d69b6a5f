// The single-owner lock of a PGlite data folder. PGlite is PostgreSQL in one process, without
// PostgreSQL's own postmaster.pid check: two processes on one folder each run their own copy of
// the database over the same files, hand out the same ids and overwrite each other's writes. So
// the folder holds a lock file naming its owner (pid, host, start time); a second opener is
// refused at once, and a lock left by a process that is gone (a crash, a kill -9) is taken over.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';

export const LOCK_FILE = 'ai-threads.lock';

export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** Another process owns the folder: the second server or CLI must not open it. */
export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
  constructor(
    readonly dir: string,
    readonly owner: LockOwner | undefined,
  ) {
    const who = owner
      ? `process ${owner.pid} on ${owner.hostname} (since ${owner.startedAt})`
      : 'another process (its lock file is unreadable)';
    super(
      `The PGlite data folder ${dir} is in use by ${who}. PGlite allows one process per folder: ` +
        `stop that process first (the CLI too needs the server stopped), or use PostgreSQL (DATABASE_URL) ` +
        `to run several. If that process is gone, delete ${join(dir, LOCK_FILE)}.`,
    );
  }
}

export interface FolderLock {
  /** Whether a stale lock (its owner gone) was taken over. */
  tookOver: LockOwner | undefined;
  release(): Promise<void>;
}

/** Folders this process holds: a second open from the same process is refused too. */
const held = new Map<string, string>();
let exitHook = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parse(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && Number.isInteger(value.pid) && value.pid > 0 && typeof value.hostname === 'string') {
      return { pid: value.pid, hostname: value.hostname, startedAt: String(value.startedAt ?? '?') };
    }
  } catch {
    // Unreadable: treated as held, never guessed stale.
  }
  return undefined;
}

/** Whether the lock's owner is certainly gone (same host, and no such process, or it is us without holding it). */
function stale(owner: LockOwner | undefined): boolean {
  if (!owner || owner.hostname !== hostname()) return false;
  // A restarted container often gets its old pid back: our own pid in a lock we do not hold is stale.
  if (owner.pid === process.pid) return true;
  return !alive(owner.pid);
}

/**
 * Takes the folder's lock or throws a DatabaseLockedError naming the owner. The lock file is
 * written whole under a temporary name and linked into place, which fails if the file exists: of
 * two processes starting together, exactly one gets it.
 */
export async function lockDataFolder(dir: string): Promise<FolderLock> {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw new DatabaseLockedError(dir, parse(held.get(path)!));
  const content = JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, content, { mode: 0o644 });
  let tookOver: LockOwner | undefined;
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await link(temporary, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // released meanwhile: try again
      const owner = parse(text);
      if (attempt >= 3 || !stale(owner)) throw new DatabaseLockedError(dir, owner);
      // Remove the stale file only if it is still the one we judged (not a newcomer's fresh lock).
      if ((await readFile(path, 'utf8').catch(() => undefined)) === text) await unlink(path).catch(() => {});
      tookOver = owner;
    }
  } finally {
    await unlink(temporary).catch(() => {});
  }
  held.set(path, content);
  if (!exitHook) {
    exitHook = true;
    // A process that exits without closing (process.exit after a fatal error) leaves no lock behind.
    process.once('exit', () => {
      for (const lockPath of held.keys()) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Already gone.
        }
      }
      held.clear();
    });
  }
  return {
    tookOver,
    async release() {
      if (held.get(path) !== content) return;
      held.delete(path);
      if ((await readFile(path, 'utf8').catch(() => undefined)) === content) await unlink(path).catch(() => {});
    },
  };
}
