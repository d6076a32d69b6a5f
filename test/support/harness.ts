// The test harness: a real app on port 0 over a real, freshly migrated database — PGlite in
// memory by default, or a new database on the PostgreSQL server named by DATABASE_URL — plus
// small HTTP helpers. Every suite builds its app here.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createDatabase, type DatabaseHandle } from '@ai-threads/db';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { createApp } from '../../server/src/app.js';
import { configWith, type Config } from '../../server/src/config.js';
import { createHttpServer } from '../../server/src/http/server.js';
import { createLogger, type Logger } from '../../server/src/logger.js';
import type { Redis } from 'ioredis';
import { createMemoryRateLimiter, type RateLimiter } from '../../server/src/rate-limit/limiter.js';
import { createRedisRateLimiter } from '../../server/src/rate-limit/redis.js';
import { createServices, type Services } from '../../server/src/services.js';

export const onPostgres = Boolean(process.env['DATABASE_URL']);

/** A fresh database: a new PostgreSQL database when DATABASE_URL is set, else PGlite in memory. */
export async function freshDatabase(): Promise<{ handle: DatabaseHandle; url: string | undefined; drop(): Promise<void> }> {
  const adminUrl = process.env['DATABASE_URL'];
  if (!adminUrl) {
    const handle = await createDatabase({ pgliteDir: 'memory://' });
    return { handle, url: undefined, drop: async () => {} };
  }
  const name = `ait_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await createDatabase({ url: url.toString(), poolSize: 5 });
  return {
    handle,
    url: url.toString(),
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export interface TestAppOptions {
  env?: Partial<Record<keyof Config, string>>;
  limiter?: RateLimiter;
  now?: () => Date;
  /** Another app's database: two apps on one database act as two instances. Not closed by this app. */
  shareDatabaseOf?: TestApp;
  /** A Redis connection for the shared state (rate limits and stream events); closed with the app. */
  redis?: Redis;
  /** The app's logger (a test that reads the log passes one writing to memory). */
  logger?: Logger;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string | undefined;
  body?: unknown;
  /** A raw body, sent as is (malformed JSON, wrong content types). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface TestUser {
  id: number;
  email: string;
  token: string;
}

export interface TestApp {
  url: string;
  services: Services;
  config: Config;
  database: DatabaseHandle;
  /** REST call: path under /api/v1. */
  api<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  /** Raw HTTP call: any path. */
  http<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  signUp(email?: string, password?: string): Promise<TestUser>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

let seq = 0;
export function uniqueEmail(prefix = 'user'): string {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}-${randomBytes(3).toString('hex')}@example.com`;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  // Every suite speaks from 127.0.0.1, so its 401 cases would share one failed-authentication
  // budget and turn into 429s as suites grow; the suites about that limit set their own.
  const config = configWith({
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    AUTH_FAILURES_PER_MINUTE_PER_IP: '100000',
    ...options.env,
  });
  const db = options.shareDatabaseOf
    ? { handle: options.shareDatabaseOf.database, drop: async () => {} }
    : await freshDatabase();
  const services = createServices({
    config,
    database: db.handle,
    logger: options.logger ?? createLogger(config.LOG_LEVEL),
    limiter: options.limiter ?? (options.redis ? createRedisRateLimiter(options.redis, config.REDIS_PREFIX) : createMemoryRateLimiter()),
    ...(options.redis ? { redis: options.redis } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const app = createApp(services);
  const server: Server = await new Promise((resolve) => {
    const s = createHttpServer(app, config).listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function http<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    let body: string | Uint8Array | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body: body as BodyInit | undefined });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  return {
    url,
    services,
    config,
    database: db.handle,
    http,
    api: (method, path, opts) => http(method, `/api/v1${path}`, opts),
    async signUp(email = uniqueEmail(), password = 'correct horse battery') {
      const res = await http<{ user: { id: number }; token: string }>('POST', '/api/v1/auth/sign-up', {
        body: { email, password },
      });
      if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${res.text}`);
      return { id: res.body.user.id, email, token: res.body.token };
    },
    async count(table: string) {
      const result = await db.handle.db.execute(sql.raw(`select count(*)::int as n from "${table.replace(/"/g, '')}"`));
      const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ n: number }>;
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      options.redis?.disconnect();
      if (options.shareDatabaseOf) return;
      await db.handle.close();
      await db.drop();
    },
  };
}
