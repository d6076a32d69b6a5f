// The pool on PostgreSQL (db/src/client.ts): a statement, or a whole transaction, waits for a free
// connection of the pool before postgres.js sees it. These tests hold what that must keep: many
// more callers than connections all get their own answers; a statement that fails, a transaction
// that rolls back and one that fails to commit each give their connection back (a connection kept
// would leave the next callers waiting forever, and these tests would time out); statements and
// transactions mixed on a full pool do not wait on each other for ever. PostgreSQL only (set
// DATABASE_URL): PGlite has no pool.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '@ai-threads/db';
import { onPostgres } from '../support/harness.js';
import { newPostgresDatabase } from '../support/postgres-database.js';

/** drizzle's execute answers the rows as an array on postgres.js. */
const rowsOf = async <T>(query: Promise<unknown>): Promise<T[]> => [...((await query) as T[])];

describe.skipIf(!onPostgres)('the PostgreSQL pool, two connections (PostgreSQL only: set DATABASE_URL)', () => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await newPostgresDatabase(process.env['DATABASE_URL']!);
    drop = created.drop;
    database = await createDatabase({ url: created.url, poolSize: 2, migrate: false });
    await database.db.execute(sql`create table pool_probe (id serial primary key, label text not null unique)`);
  });

  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  it('answers 200 callers at once, each with its own rows', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => rowsOf<{ n: number }>(database.db.execute(sql`select ${i}::int as n, pg_sleep(0.001)`))),
    );
    expect(answers.map((rows) => rows.map((row) => row.n))).toEqual(Array.from({ length: 200 }, (_, i) => [i]));
  });

  it('gets its connections back from failed statements, rolled-back and failed transactions', async () => {
    const failures = await Promise.allSettled(Array.from({ length: 10 }, () => database.db.execute(sql`select 1 / 0`)));
    expect(failures.every((result) => result.status === 'rejected')).toBe(true);

    const rolledBack = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        database.db.transaction(async (tx) => {
          await tx.execute(sql`insert into pool_probe (label) values (${`rolled back ${i}`})`);
          throw new Error('roll back');
        }),
      ),
    );
    expect(rolledBack.every((result) => result.status === 'rejected')).toBe(true);

    // The second insert of a label fails inside the transaction: it never commits.
    await database.db.execute(sql`insert into pool_probe (label) values ('taken')`);
    const failed = await Promise.allSettled(
      Array.from({ length: 10 }, () => database.db.transaction(async (tx) => tx.execute(sql`insert into pool_probe (label) values ('taken')`))),
    );
    expect(failed.every((result) => result.status === 'rejected')).toBe(true);

    // Both connections are free again: more work than the pool holds still runs, all of it.
    const labels = await rowsOf<{ label: string }>(database.db.execute(sql`select label from pool_probe order by id`));
    expect(labels.map((row) => row.label)).toEqual(['taken']);
    const again = await Promise.all(Array.from({ length: 20 }, (_, i) => rowsOf<{ n: number }>(database.db.execute(sql`select ${i}::int as n`))));
    expect(again.flat().map((row) => row.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('runs transactions and statements mixed on a full pool, each transaction on its own connection', async () => {
    await database.db.execute(sql`truncate pool_probe`);
    const work = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? database.db.transaction(async (tx) => {
            // Two statements of one transaction sent together: the same connection, in order.
            const [first, second] = await Promise.all([
              rowsOf<{ pid: number }>(tx.execute(sql`insert into pool_probe (label) values (${`tx ${i} a`}) returning pg_backend_pid() as pid`)),
              rowsOf<{ pid: number }>(tx.execute(sql`insert into pool_probe (label) values (${`tx ${i} b`}) returning pg_backend_pid() as pid`)),
            ]);
            return first[0]!.pid === second[0]!.pid;
          })
        : database.db.execute(sql`insert into pool_probe (label) values (${`statement ${i}`})`).then(() => true),
    );
    expect(await Promise.all(work)).toEqual(Array.from({ length: 30 }, () => true));
    const [{ n }] = (await rowsOf<{ n: number }>(database.db.execute(sql`select count(*)::int as n from pool_probe`))) as [{ n: number }];
    expect(n).toBe(10 * 2 + 20);
  });
});
