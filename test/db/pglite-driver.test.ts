// How statements reach PGlite's thread (db/src/pglite-driver.ts): a statement already prepared is
// sent at once, behind the ones still under way, instead of waiting for each answer. These tests
// hold what that must not change: each caller gets its own answer, in the order the statements were
// sent; one statement's error is its own; and nothing sent from outside a transaction runs inside
// it (a rollback undoes only the transaction's own work).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '@ai-threads/db';
import { startPgliteBackend } from '../../db/src/pglite-backend.js';
import { pgliteDriver } from '../../db/src/pglite-driver.js';

type Rows<T> = { rows: T[] };

let database: DatabaseHandle;
const rowsOf = async <T>(query: Promise<unknown>) => ((await query) as Rows<T>).rows;

beforeAll(async () => {
  database = await createDatabase({ pgliteDir: 'memory://' });
  await database.db.execute(sql`create table pipeline_probe (id serial primary key, label text not null)`);
});

afterAll(async () => {
  await database.close();
});

describe('statements sent to PGlite without waiting for each other', () => {
  it('answer each caller with its own rows, in the order they were sent', async () => {
    const echo = (n: number) => rowsOf<{ n: number; twice: number }>(database.db.execute(sql`select ${n}::int as n, ${n}::int * 2 as twice`));
    // The statement is prepared once, then 200 callers send it together.
    await echo(0);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => echo(i)));
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => [{ n: i, twice: i * 2 }]));

    const insert = (label: string) =>
      rowsOf<{ id: number; label: string }>(database.db.execute(sql`insert into pipeline_probe (label) values (${label}) returning id, label`));
    await insert('first');
    const inserted = (await Promise.all(Array.from({ length: 50 }, (_, i) => insert(`row ${i}`)))).map(([row]) => row!);
    // Sent in this order, run in this order: the sequence hands out increasing ids.
    const ids = inserted.map((row) => row.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(inserted.map((row) => row.label)).toEqual(Array.from({ length: 50 }, (_, i) => `row ${i}`));
  });

  it('keep an error to the statement that caused it', async () => {
    const divide = (d: number) => rowsOf<{ q: number }>(database.db.execute(sql`select 10 / ${d}::int as q`));
    await divide(1);
    const settled = await Promise.allSettled([1, 2, 0, 5, 0, 10].map(divide));
    expect(settled.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as { cause?: { code?: string } }).cause?.code))).toEqual([
      [{ q: 10 }],
      [{ q: 5 }],
      '22012',
      [{ q: 2 }],
      '22012',
      [{ q: 1 }],
    ]);
  });

  it('run a new statement text once prepared, whoever sends it first', async () => {
    const ask = (i: number, j: number) => rowsOf<{ k: number; v: string }>(database.db.execute(sql`select ${sql.raw(String(i))} as k, ${`${i}.${j}`}::text as v`));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => [0, 1, 2].map((j) => ask(i, j))).flat());
    expect(answers.flat().map((row) => `${row.k}:${row.v}`)).toEqual(Array.from({ length: 20 }, (_, i) => [0, 1, 2].map((j) => `${i}:${i}.${j}`)).flat());
  });

  it('are sent before the answers of the earlier ones are back', async () => {
    const backend = await startPgliteBackend({ dir: 'memory://', settings: [], newFolder: false });
    let underWay = 0;
    let most = 0;
    const exchange = backend.exchange.bind(backend);
    backend.exchange = async (message) => {
      most = Math.max(most, ++underWay);
      try {
        return await exchange(message);
      } finally {
        underWay--;
      }
    };
    const driver = pgliteDriver(backend);
    try {
      await driver.query('select $1::int as n', [0]);
      most = 0;
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => driver.query<{ n: number }>('select $1::int as n', [i])));
      expect(answers.map((answer) => answer.rows)).toEqual(Array.from({ length: 8 }, (_, i) => [{ n: i }]));
      expect(most).toBe(8);
      // Inside a transaction a statement waits for the one before it, and the others wait for the transaction.
      most = 0;
      await Promise.all([
        driver.transaction(async (tx) => {
          await tx.query('select $1::int as n', [1]);
          await tx.query('select $1::int as n', [2]);
        }),
        driver.query('select $1::int as n', [3]),
      ]);
      expect(most).toBe(1);
    } finally {
      await driver.close();
    }
  });

  it('never run inside a transaction that is open meanwhile: its rollback undoes only its own work', async () => {
    await database.db.execute(sql`truncate pipeline_probe`);
    const insert = (label: string) => database.db.execute(sql`insert into pipeline_probe (label) values (${label})`);
    await insert('warm-up');
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transaction = database.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into pipeline_probe (label) values (${'inside'})`);
        opened();
        await released;
        throw new Error('roll it back');
      })
      .catch((error: Error) => error.message);
    await isOpen;
    // Sent while the transaction is open, after its insert and before its rollback.
    const outside = Promise.all(Array.from({ length: 10 }, (_, i) => insert(`outside ${i}`)));
    release();
    expect(await transaction).toBe('roll it back');
    await outside;
    const labels = (await rowsOf<{ label: string }>(database.db.execute(sql`select label from pipeline_probe order by id`))).map((row) => row.label);
    expect(labels).toEqual(['warm-up', ...Array.from({ length: 10 }, (_, i) => `outside ${i}`)]);
  });
});
