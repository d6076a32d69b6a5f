// How drizzle talks to PGlite once the database is migrated: the part of PGlite's client that
// drizzle uses (`query`, `transaction`), driven with named prepared statements. Edit this file to
// change how statements reach PGlite; what runs in them is the repositories' business.
//
// PGlite's own `query` sends a statement as six protocol messages, each a separate pass through the
// WASM backend (parse, describe, bind, describe, execute, sync), parses and plans it again every
// time, and then copies its whole table of type parsers (several hundred entries) for every result
// (profiled at c=16: a third of a request's CPU in PGlite's JS, a fifth more in the backend). Here
// a statement is parsed and described once (per text, kept like postgres.js keeps them on a
// connection) and then runs as one message: bind, execute, sync. Values are serialised and rows
// parsed with PGlite's own serializers and parsers, so drizzle sees the same values either way.
import { protocol, TransactionAbortedError, type QueryOptions, type Results } from '@electric-sql/pglite';
import type { PgliteBackend } from './pglite-backend.js';

type Field = { name: string; dataTypeID: number };

/** What the backend answered to one batch: at most one statement's description or results. */
interface Answers {
  rows: (string | null)[][];
  /** CommandComplete's tag ("INSERT 0 1"). */
  tag: string | undefined;
  /** ParameterDescription's types (a statement described). */
  paramTypes: number[] | undefined;
  /** RowDescription's columns (a statement described). */
  fields: Field[] | undefined;
}
type Parser = (value: string, typeId: number) => unknown;

interface Statement {
  name: string;
  paramTypes: number[];
  fields: Field[];
}

/** The query surface drizzle's PGlite session calls, on the database and in a transaction. */
interface PgliteQueries {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
}

export interface PgliteDriver extends PgliteQueries {
  transaction<T>(scope: (tx: PgliteQueries & { readonly closed: boolean; rollback(): Promise<void> }) => Promise<T>): Promise<T>;
  /** Waits for the statements and transactions under way, then closes PGlite. */
  close(): Promise<void>;
}

/**
 * Prepared statements kept at most (the least recently used is closed beyond): drizzle writes a
 * statement's text again for each number of values in an `in (...)` list or a multi-row insert.
 */
const MAX_STATEMENTS = 500;

/** The statement no longer matches the schema (a migration ran), or it is gone: prepared again next time. */
const STALE_STATEMENT = new Set(['0A000', '26000']);

const { serialize } = protocol;
const SYNC = serialize.sync();
const EXECUTE = serialize.execute({});

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Bind (the unnamed portal, text values, text results), Execute and Sync, in one buffer written in
 * place: pg-protocol's serializer builds each in its own growing writer and copies it out (about
 * as much CPU as the backend's own bind, profiled). Values other than text or null (binary
 * buffers) take pg-protocol's way.
 */
function bindExecuteSync(statement: string, values: unknown[]): Uint8Array {
  if (!values.every((value) => value === null || typeof value === 'string')) {
    return concat([serialize.bind({ statement, values: values as (string | null)[] }), EXECUTE, SYNC]);
  }
  const texts = values as (string | null)[];
  const count = texts.length;
  const lengths = texts.map((value) => (value === null ? -1 : Buffer.byteLength(value)));
  const nameLength = Buffer.byteLength(statement);
  let bindLength = 4 + 1 + nameLength + 1 + 2 + 2 * count + 2 + 2;
  for (const length of lengths) bindLength += 4 + Math.max(length, 0);
  const out = Buffer.allocUnsafe(1 + bindLength + EXECUTE.length + SYNC.length);
  let at = out.writeUInt8(0x42, 0);
  at = out.writeInt32BE(bindLength, at);
  at = out.writeUInt8(0, at); // the unnamed portal
  at += out.write(statement, at);
  at = out.writeUInt8(0, at);
  at = out.writeInt16BE(count, at);
  for (let i = 0; i < count; i++) at = out.writeInt16BE(0, at); // every value in text
  at = out.writeInt16BE(count, at);
  for (let i = 0; i < count; i++) {
    at = out.writeInt32BE(lengths[i]!, at);
    if (lengths[i]! > 0) at += out.write(texts[i]!, at);
  }
  at = out.writeInt16BE(0, at); // no result formats: every column in text
  out.set(EXECUTE, at);
  out.set(SYNC, at + EXECUTE.length);
  return out;
}

/** As PGlite's own errors: the statement, its values and options on the database's error. */
function withQuery(error: unknown, query: string, params: unknown[] | undefined, options: QueryOptions | undefined): unknown {
  if (error instanceof protocol.messages.DatabaseError) Object.assign(error, { query, params, queryOptions: options });
  return error;
}

/**
 * Reads a batch's answers (whole messages, as PostgreSQL sends them). Rows, descriptions and the
 * command tag are read here directly (pg-protocol's parser copies every field into a new buffer
 * and decodes it with a TextDecoder: most of the JS cost of reading rows, profiled); an error or
 * any rarer message goes to PGlite's own parser, so that errors are PGlite's DatabaseError.
 */
function readAnswers(data: Buffer): Answers {
  const answers: Answers = { rows: [], tag: undefined, paramTypes: undefined, fields: undefined };
  let failure: unknown;
  let at = 0;
  while (at + 5 <= data.length) {
    const code = data[at]!;
    const end = at + 1 + data.readInt32BE(at + 1);
    let p = at + 5;
    if (code === 0x44) {
      // DataRow: a count, then each value's length (-1: null) and its text.
      const count = data.readInt16BE(p);
      p += 2;
      const row = new Array<string | null>(count);
      for (let i = 0; i < count; i++) {
        const length = data.readInt32BE(p);
        p += 4;
        if (length < 0) row[i] = null;
        else {
          row[i] = data.toString('utf8', p, p + length);
          p += length;
        }
      }
      answers.rows.push(row);
    } else if (code === 0x43) {
      answers.tag = data.toString('utf8', p, end - 1);
    } else if (code === 0x54) {
      // RowDescription: per column its name, then table, column number, type, size, modifier, format.
      const count = data.readInt16BE(p);
      p += 2;
      const fields: Field[] = [];
      for (let i = 0; i < count; i++) {
        const nameEnd = data.indexOf(0, p);
        const name = data.toString('utf8', p, nameEnd);
        p = nameEnd + 1 + 6;
        fields.push({ name, dataTypeID: data.readInt32BE(p) });
        p += 12;
      }
      answers.fields = fields;
    } else if (code === 0x74) {
      const count = data.readInt16BE(p);
      p += 2;
      const types: number[] = [];
      for (let i = 0; i < count; i++, p += 4) types.push(data.readInt32BE(p));
      answers.paramTypes = types;
    } else if (code === 0x45 && failure === undefined) {
      // ErrorResponse: the first one is the batch's error.
      new protocol.Parser().parse(data.subarray(at, end), (message) => (failure = message));
    }
    // Anything else (ParseComplete, BindComplete, ReadyForQuery, notices...) carries nothing to return.
    at = end;
  }
  if (failure !== undefined) throw failure;
  return answers;
}

/** The results of one statement, as PGlite's `parseResults` makes them. */
function resultOf(answers: Answers, fields: Field[], parsers: (Parser | undefined)[], rowMode: 'array' | 'object' | undefined): Results {
  if (answers.tag === undefined) return { rows: [], fields: [], affectedRows: 0 };
  const rows: unknown[] = [];
  for (const values of answers.rows) {
    if (rowMode === 'array') {
      const row = new Array<unknown>(values.length);
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        const parse = parsers[i];
        row[i] = value === null || value === undefined ? null : parse ? parse(value, fields[i]!.dataTypeID) : value;
      }
      rows.push(row);
    } else {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        const parse = parsers[i];
        row[fields[i]!.name] = value === null || value === undefined ? null : parse ? parse(value, fields[i]!.dataTypeID) : value;
      }
      rows.push(row);
    }
  }
  const parts = answers.tag.split(' ');
  const command = parts[0]!;
  const rowCount = parseInt(parts[parts.length - 1]!, 10);
  const counted = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'COPY' || command === 'MERGE';
  const result: Results & { rowCount?: number } = { rows: rows as Results['rows'], fields, command, affectedRows: counted ? rowCount : 0 };
  if (!Number.isNaN(rowCount)) result.rowCount = rowCount;
  return result;
}

export function pgliteDriver(pg: PgliteBackend): PgliteDriver {
  const statements = new Map<string, Statement>();
  let counter = 0;
  /** Statements evicted from the cache, closed with the next message sent. */
  let toClose: Uint8Array[] = [];
  /** The tail of the queue of work that needs the database to itself: transactions, statements to prepare, the close. */
  let tail: Promise<unknown> = Promise.resolve();
  /** That work, queued or under way. */
  let exclusiveWork = 0;

  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    exclusiveWork++;
    const run = tail.then(work);
    tail = run.then(
      () => void exclusiveWork--,
      () => void exclusiveWork--,
    );
    return run;
  };

  /**
   * Sends one batch of messages (ending in Sync) and returns the backend's answers; throws the first
   * error among them. The backend thread runs one whole batch at a time, in the order sent, so that
   * batches from concurrent callers (statements of one transaction run together) cannot mix.
   */
  async function exchange(message: Uint8Array): Promise<Answers> {
    const bytes = await pg.exchange(message);
    return readAnswers(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  async function prepare(text: string, options: QueryOptions | undefined): Promise<Statement> {
    const name = `s${++counter}`;
    const closing = toClose;
    toClose = [];
    const described = await exchange(
      concat([...closing, serialize.parse({ name, text, ...(options?.paramTypes ? { types: options.paramTypes } : {}) }), serialize.describe({ type: 'S', name }), SYNC]),
    );
    const statement = { name, paramTypes: described.paramTypes ?? [], fields: described.fields ?? [] };
    statements.set(text, statement);
    if (statements.size > MAX_STATEMENTS) {
      const [oldText, oldest] = statements.entries().next().value!;
      statements.delete(oldText);
      toClose.push(serialize.close({ type: 'S', name: oldest.name }));
    }
    return statement;
  }

  /**
   * Binds and executes a prepared statement. The message is posted before this returns its promise
   * (nothing in between awaits), so that statements sent one after the other reach the thread in
   * the order they were sent.
   */
  async function execute<T>(text: string, statement: Statement, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    // Most recently used last: the first entry is the one to evict.
    statements.delete(text);
    statements.set(text, statement);
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const oid = statement.paramTypes[i]!;
      const serializer = options?.serializers?.[oid] ?? pg.serializers[oid];
      return serializer ? serializer(param) : String(param);
    });
    const parsers = statement.fields.map((field) => (options?.parsers?.[field.dataTypeID] ?? pg.parsers[field.dataTypeID]) as Parser | undefined);
    const closing = toClose;
    toClose = [];
    let answers: Answers;
    try {
      const bound = bindExecuteSync(statement.name, values);
      answers = await exchange(closing.length > 0 ? concat([...closing, bound]) : bound);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && STALE_STATEMENT.has(code) && statements.get(text) === statement) statements.delete(text);
      throw error;
    }
    return resultOf(answers, statement.fields, parsers, options?.rowMode) as Results<T>;
  }

  /** Prepares the statement if it is new; a statement already prepared is sent before this returns (see execute). */
  async function run<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    try {
      return await execute<T>(text, statements.get(text) ?? (await prepare(text, options)), params, options);
    } catch (error) {
      throw withQuery(error, text, params, options);
    }
  }

  async function exec(text: string): Promise<Results[]> {
    try {
      return [resultOf(await exchange(serialize.query(text)), [], [], undefined)];
    } catch (error) {
      throw withQuery(error, text, undefined, undefined);
    }
  }

  return {
    // A statement already prepared, with no transaction queued or open, goes to the thread at once,
    // behind those still under way: the thread runs them back to back, one Sync each (an error ends
    // only its own statement), while this thread reads answers and serves requests. Waiting for each
    // answer before sending the next left the database idle whenever this thread was busy (PGlite's
    // p99 at c=16 was twice its median, measured). Anything else waits for its turn.
    query: (text, params, options) =>
      exclusiveWork === 0 && statements.has(text) ? run(text, params, options) : exclusive(() => run(text, params, options)),
    transaction: (scope) =>
      exclusive(async () => {
        await exec('BEGIN');
        let closed = false;
        const open = () => {
          if (closed) throw new Error('Transaction is closed');
        };
        const tx = {
          query: <T>(text: string, params?: unknown[], options?: QueryOptions) => {
            open();
            return run<T>(text, params, options);
          },
          async rollback() {
            open();
            await exec('ROLLBACK');
            closed = true;
          },
          get closed() {
            return closed;
          },
        };
        try {
          const result = await scope(tx);
          if (!closed) {
            closed = true;
            const [commit] = await exec('COMMIT');
            // COMMIT of a transaction that an error aborted rolls it back.
            if (commit?.command === 'ROLLBACK') throw withQuery(new TransactionAbortedError(), 'COMMIT', undefined, undefined);
          }
          return result;
        } catch (error) {
          if (!closed) {
            closed = true;
            await exec('ROLLBACK');
          }
          throw error;
        }
      }),
    close: () => exclusive(() => pg.close()),
  };
}
