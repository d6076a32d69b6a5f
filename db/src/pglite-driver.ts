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
import { protocol, TransactionAbortedError, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';

type BackendMessage = { name: string };
type Field = { name: string; dataTypeID: number };
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

/** As PGlite's own errors: the statement, its values and options on the database's error. */
function withQuery(error: unknown, query: string, params: unknown[] | undefined, options: QueryOptions | undefined): unknown {
  if (error instanceof protocol.messages.DatabaseError) Object.assign(error, { query, params, queryOptions: options });
  return error;
}

/** The results of one statement, as PGlite's `parseResults` makes them. */
function resultOf(messages: BackendMessage[], fields: Field[], parsers: Parser[], rowMode: 'array' | 'object' | undefined): Results {
  const rows: unknown[] = [];
  const names = fields.map((field) => field.name);
  for (const message of messages) {
    if (message.name === 'dataRow') {
      const values = (message as unknown as { fields: (string | null)[] }).fields;
      if (rowMode === 'array') {
        const row = new Array<unknown>(values.length);
        for (let i = 0; i < values.length; i++) {
          const value = values[i];
          row[i] = value === null || value === undefined ? null : parsers[i] ? parsers[i]!(value, fields[i]!.dataTypeID) : value;
        }
        rows.push(row);
      } else {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < values.length; i++) {
          const value = values[i];
          row[names[i]!] = value === null || value === undefined ? null : parsers[i] ? parsers[i]!(value, fields[i]!.dataTypeID) : value;
        }
        rows.push(row);
      }
    } else if (message.name === 'commandComplete') {
      const parts = (message as unknown as { text: string }).text.split(' ');
      const command = parts[0]!;
      const rowCount = parseInt(parts[parts.length - 1]!, 10);
      const counted = ['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(command);
      const result: Results & { rowCount?: number } = { rows: rows as Results['rows'], fields, command, affectedRows: counted ? rowCount : 0 };
      if (!Number.isNaN(rowCount)) result.rowCount = rowCount;
      return result;
    }
  }
  return { rows: [], fields: [], affectedRows: 0 };
}

export function pgliteDriver(pg: PGlite): PgliteDriver {
  const statements = new Map<string, Statement>();
  let counter = 0;
  /** Statements evicted from the cache, closed with the next message sent. */
  let toClose: Uint8Array[] = [];
  /** The tail of the queue: one statement or one transaction at a time, in the order they came. */
  let tail: Promise<unknown> = Promise.resolve();

  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => {});
    return run;
  };

  /**
   * Sends one batch of messages (ending in Sync) and returns the backend's answers; throws the first
   * error among them. The backend runs the whole batch within the call, and its answers are read
   * here as they come, so that batches from concurrent callers (statements of one transaction run
   * together) cannot mix: PGlite's `execProtocol` gathers answers in the instance, per call.
   */
  let parser = new protocol.Parser();
  async function exchange(message: Uint8Array): Promise<BackendMessage[]> {
    const received: BackendMessage[] = [];
    let failure: unknown;
    try {
      await pg.execProtocolRawStream(message, {
        syncToFs: false,
        onRawData: (bytes) =>
          parser.parse(bytes, (answer) => {
            if (answer instanceof protocol.messages.DatabaseError) failure ??= answer;
            else received.push(answer);
          }),
      });
    } catch (error) {
      parser = new protocol.Parser();
      throw error;
    }
    if (failure) throw failure;
    return received;
  }

  async function prepare(text: string, options: QueryOptions | undefined): Promise<Statement> {
    const name = `s${++counter}`;
    const closing = toClose;
    toClose = [];
    const messages = await exchange(
      concat([...closing, serialize.parse({ name, text, ...(options?.paramTypes ? { types: options.paramTypes } : {}) }), serialize.describe({ type: 'S', name }), SYNC]),
    );
    let paramTypes: number[] = [];
    let fields: Field[] = [];
    for (const message of messages) {
      if (message.name === 'parameterDescription') paramTypes = (message as unknown as { dataTypeIDs: number[] }).dataTypeIDs;
      else if (message.name === 'rowDescription') {
        fields = (message as unknown as { fields: Field[] }).fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID }));
      }
    }
    const statement = { name, paramTypes, fields };
    statements.set(text, statement);
    if (statements.size > MAX_STATEMENTS) {
      const [oldText, oldest] = statements.entries().next().value!;
      statements.delete(oldText);
      toClose.push(serialize.close({ type: 'S', name: oldest.name }));
    }
    return statement;
  }

  async function run<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    try {
      let statement = statements.get(text);
      if (statement) {
        // Most recently used last: the first entry is the one to evict.
        statements.delete(text);
        statements.set(text, statement);
      } else {
        statement = await prepare(text, options);
      }
      const values = params.map((param, i) => {
        if (param === null || param === undefined) return null;
        const oid = statement.paramTypes[i]!;
        const serializer = options?.serializers?.[oid] ?? pg.serializers[oid];
        return serializer ? serializer(param) : String(param);
      });
      const parsers = statement.fields.map((field) => (options?.parsers?.[field.dataTypeID] ?? pg.parsers[field.dataTypeID]) as Parser | undefined);
      const closing = toClose;
      toClose = [];
      let messages: BackendMessage[];
      try {
        messages = await exchange(concat([...closing, serialize.bind({ statement: statement.name, values }), EXECUTE, SYNC]));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && STALE_STATEMENT.has(code)) statements.delete(text);
        throw error;
      }
      return resultOf(messages, statement.fields, parsers as Parser[], options?.rowMode) as Results<T>;
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
    query: (text, params, options) => exclusive(() => run(text, params, options)),
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
