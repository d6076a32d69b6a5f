// The shared services the cluster suites run on: the machine's PostgreSQL (a fresh database per
// suite, dropped afterwards), the machine's Redis (one logical database per suite, emptied first),
// and a TCP proxy in front of PostgreSQL that a test closes and reopens to take the database away
// from one instance without touching the server. Edit when a suite needs another backing service.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { within } from './wait.js';

/** The PostgreSQL server: a role that may CREATE DATABASE (DATABASE_URL, else the CI default). */
export const ADMIN_DATABASE_URL = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
/** The Redis server (REDIS_URL, else the CI default); the suites choose the logical database. */
export const REDIS_SERVER_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

export interface ClusterDatabase {
  /** The URL the instances use. */
  url: string;
  host: string;
  port: number;
  /** A direct connection for the tests' own reads (row counts), never through a proxy. */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

/** A new, empty database on the PostgreSQL server; the instances migrate it when they start. */
export async function createClusterDatabase(): Promise<ClusterDatabase> {
  const name = `ait_cluster_${randomBytes(6).toString('hex')}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  return {
    url: url.toString(),
    host: url.hostname,
    port: Number(url.port || 5432),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      const a = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** Rows in each table a request could write. */
export async function rowCounts(sql: postgres.Sql): Promise<Record<string, number>> {
  const [row] = await sql<Array<Record<string, number>>>`
    select
      (select count(*)::int from users) as users,
      (select count(*)::int from sessions) as sessions,
      (select count(*)::int from threads) as threads,
      (select count(*)::int from messages) as messages,
      (select count(*)::int from idempotency_keys) as idempotency_keys`;
  return { ...row };
}

type RedisReply = string | number | null | RedisReply[];

/**
 * Runs commands on one logical Redis database over a fresh connection and returns their replies:
 * just enough of RESP for the tests (no client library in the test workspace).
 */
export async function redisCommands(db: number, ...commands: string[][]): Promise<RedisReply[]> {
  const { hostname, port } = new URL(REDIS_SERVER_URL);
  const all = [['SELECT', String(db)], ...commands];
  const socket = net.connect(Number(port || 6379), hostname || '127.0.0.1');
  socket.on('error', () => {});
  try {
    return await within(
      new Promise<RedisReply[]>((resolve, reject) => {
        let buffer = Buffer.alloc(0);
        socket.on('error', reject);
        socket.on('close', () => reject(new Error('redis closed the connection')));
        socket.on('data', (data: Buffer) => {
          buffer = Buffer.concat([buffer, data]);
          const replies: RedisReply[] = [];
          let offset = 0;
          for (;;) {
            const parsed = parseReply(buffer, offset);
            if (!parsed) break;
            replies.push(parsed.value);
            offset = parsed.next;
          }
          if (replies.length < all.length) return;
          const failure = replies.find((r): r is string => typeof r === 'string' && r.startsWith('-'));
          if (failure) reject(new Error(`redis: ${failure.slice(1)}`));
          else resolve(replies.slice(1));
        });
        socket.write(
          all
            .map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
            .join(''),
        );
      }),
      5_000,
      `redis at ${REDIS_SERVER_URL}`,
    );
  } finally {
    socket.destroy();
  }
}

/** One RESP reply at `offset`, or undefined while incomplete. Errors come back as "-message". */
function parseReply(buffer: Buffer, offset: number): { value: RedisReply; next: number } | undefined {
  const end = buffer.indexOf('\r\n', offset);
  if (end < 0) return undefined;
  const kind = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString('utf8', offset + 1, end);
  switch (kind) {
    case '+':
      return { value: line, next: end + 2 };
    case '-':
      return { value: `-${line}`, next: end + 2 };
    case ':':
      return { value: Number(line), next: end + 2 };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: end + 2 };
      if (buffer.length < end + 2 + length + 2) return undefined;
      return { value: buffer.toString('utf8', end + 2, end + 2 + length), next: end + 2 + length + 2 };
    }
    case '*': {
      const count = Number(line);
      const items: RedisReply[] = [];
      let next = end + 2;
      for (let i = 0; i < count; i += 1) {
        const item = parseReply(buffer, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP reply: ${line}`);
  }
}

/** An emptied logical Redis database for one suite, and the REDIS_URL that selects it. */
export async function freshRedisDb(db: number): Promise<string> {
  await redisCommands(db, ['FLUSHDB']);
  const url = new URL(REDIS_SERVER_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

/** A TCP port on 127.0.0.1 with nothing listening on it (an unreachable service). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TcpProxy {
  port: number;
  /** Whether it accepts connections now. */
  readonly up: boolean;
  /** Stops listening and cuts every connection: the target looks gone (connections refused). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 to `host:port` that the test can take down and bring back. */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (on: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(on, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const proxyPort = (server.address() as net.AddressInfo).port;
  const stop = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    port: proxyPort,
    get up() {
      return server.listening;
    },
    down: stop,
    restore: () => listen(proxyPort),
    close: stop,
  };
}
