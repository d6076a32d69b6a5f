// Runs once before the cluster suites: builds the server (tsc -b of the server project and the
// workspaces it references) so that the instances run the compiled code with plain node, and
// checks that PostgreSQL and Redis answer, with a clear message when they do not.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { ADMIN_DATABASE_URL, REDIS_SERVER_URL, redisCommands } from './backing.js';
import { ROOT } from './instances.js';

export default async function setup(): Promise<void> {
  // Only the server's project graph: the test project is type-checked by `npm run check`.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'server'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 180_000,
  });
  if (!existsSync(join(ROOT, 'server/dist/main.js'))) throw new Error('the build did not produce server/dist/main.js');

  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(`The cluster suites need PostgreSQL at ${ADMIN_DATABASE_URL}: ${(error as Error).message}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  try {
    await redisCommands(0, ['PING']);
  } catch (error) {
    throw new Error(`The cluster suites need Redis at ${REDIS_SERVER_URL}: ${(error as Error).message}`);
  }
}
