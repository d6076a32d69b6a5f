// A new, empty database on the PostgreSQL server of DATABASE_URL, for one test file (or one test).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** Creates `ait_test_<random>` on the server of `adminUrl`: its URL, and how to drop it. */
export async function newPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ait_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await again.unsafe(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}
