// The test harness: a real app on port 0 over a real, freshly migrated database — PGlite in
// memory by default, or a new database on the PostgreSQL server named by DATABASE_URL — plus
// small HTTP helpers. A suite sets itself up in one line with `harness()` (the app, the fake
// OpenAI server answering it, a signed-up user, all closed after the file); `startTestApp` is the
// piece underneath, for suites that build apps their own way.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createDatabase, type DatabaseHandle } from '@ai-threads/db';
import {
  configWith,
  createApp,
  createHttpServer,
  createLogger,
  createMemoryRateLimiter,
  createRedisRateLimiter,
  createServices,
  type Config,
  type Logger,
  type RateLimiter,
  type Services,
} from '@ai-threads/server';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fake-openai/server.js';
import { newPostgresDatabase } from './postgres-database.js';

export const onPostgres = Boolean(process.env['DATABASE_URL']);

/** A fresh database: a new PostgreSQL database when DATABASE_URL is set, else PGlite in memory. */
export async function freshDatabase(): Promise<{ handle: DatabaseHandle; url: string | undefined; drop(): Promise<void> }> {
  const adminUrl = process.env['DATABASE_URL'];
  if (!adminUrl) {
    const handle = await createDatabase({ pgliteDir: 'memory://' });
    return { handle, url: undefined, drop: async () => {} };
  }
  const database = await newPostgresDatabase(adminUrl);
  const handle = await createDatabase({ url: database.url, poolSize: 5 });
  return { handle, url: database.url, drop: database.drop };
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
  let closing: Promise<void> | undefined;

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
    close() {
      // A test may close an app early that its harness closes again after the file.
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        options.redis?.disconnect();
        if (options.shareDatabaseOf) return;
        await db.handle.close();
        await db.drop();
      })();
      return closing;
    },
  };
}

/**
 * The environment of an app answered by the fake server through the openai SDK. No SDK retries,
 * so one scripted step is one answer; a message budget that only the rate-limit suites reach.
 */
function fakeAiEnv(fake: FakeOpenAI, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: fake.url,
    AI_MODEL: 'fake-model',
    AI_MAX_RETRIES: '0',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '10000',
    RATE_LIMIT_REQUESTS_PER_MINUTE: '100000',
    ...extra,
  };
}

interface HarnessAppOptions extends TestAppOptions {
  /**
   * Who answers messages: the harness's fake OpenAI server (the default; `env` goes on top of
   * `fakeAiEnv`), or the built-in offline model (`env` as given).
   */
  model?: 'fake' | 'offline';
}

export interface HarnessOptions extends HarnessAppOptions {
  /** `false`: no app of the file's own, only the fake model and `startApp` (suites of several apps). */
  app?: boolean;
}

export interface ModelHarness {
  /** The fake OpenAI server: `fake.script(...)` its answers, read `fake.requests`. */
  fake: FakeOpenAI;
  /**
   * Another app, closed with the harness: other env (`{ env: { RATE_LIMIT_...: '1' } }`), a second
   * instance on the same database (`{ shareDatabaseOf: app }`), Redis (`{ redis: new Redis(url) }`).
   */
  startApp(options?: HarnessAppOptions): Promise<TestApp>;
}

export interface Harness extends ModelHarness {
  /** The file's app, answered by `fake`. */
  app: TestApp;
  /** A member signed up on `app`. */
  user: TestUser;
}

/**
 * Sets a suite up in one line, at the top of the file (or a describe body), and registers its own
 * teardown: `const { app, fake, user } = await harness();`. Everything it starts is closed after
 * the tests it was declared for.
 */
export async function harness(options: HarnessOptions & { app: false }): Promise<ModelHarness>;
export async function harness(options?: HarnessOptions): Promise<Harness>;
export async function harness(options: HarnessOptions = {}): Promise<Harness | ModelHarness> {
  const apps: TestApp[] = [];
  let fake: FakeOpenAI | undefined;
  afterAll(async () => {
    // Later apps may share an earlier one's database, so they close first.
    for (const app of apps.reverse()) await app.close();
    await fake?.close();
  });
  fake = await startFakeOpenAI();
  const model = fake;
  async function startApp({ model: answeredBy = 'fake', env = {}, ...rest }: HarnessAppOptions = {}): Promise<TestApp> {
    const app = await startTestApp({ ...rest, env: answeredBy === 'fake' ? fakeAiEnv(model, env) : env });
    apps.push(app);
    return app;
  }
  const { app: ownApp = true, ...appOptions } = options;
  if (!ownApp) return { fake, startApp };
  const app = await startApp(appOptions);
  return { fake, startApp, app, user: await app.signUp() };
}
