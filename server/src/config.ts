// Configuration from the environment, validated once at start. A bad value stops the start with a
// message naming the variable. Add every new setting here, with its default, and to the README.
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_STATE_LIMITS, type StateLimits } from './state/default-limits.js';

/** Where `npm run build:app` writes the example app, from this file in src/ or dist/ alike. */
const DEFAULT_WEB_APP_DIR = fileURLToPath(new URL('../../examples/form-copilot/dist', import.meta.url));

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number<number>().int().min(min).max(max).default(def);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, or a subnet as address/prefix-length or address/netmask, as express accepts them. */
function isAddressOrSubnet(entry: string): boolean {
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/**
 * TRUST_PROXY, as express's `trust proxy` setting: `false` (the socket's peer is the client), a
 * number of proxy hops, or the proxies' addresses, subnets and names (loopback, linklocal,
 * uniquelocal). Never `true`: express would then take the left-most X-Forwarded-For entry, which
 * any client writes itself, and a rotating header would escape every per-IP limit.
 */
function trustProxy(raw: string, ctx: z.RefinementCtx): false | number | string[] {
  const value = raw.trim().toLowerCase();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') {
    ctx.addIssue({
      code: 'custom',
      message:
        'true would believe any client-sent X-Forwarded-For; give the number of proxies in front of the service ' +
        '(TRUST_PROXY=1 for one), or their addresses or subnets (e.g. TRUST_PROXY=loopback,10.0.0.0/8), or false',
    });
    return z.NEVER;
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) ctx.addIssue({ code: 'custom', message: 'must be at most 100 proxy hops' });
    return hops;
  }
  const entries = value.split(',').map((e) => e.trim());
  const bad = entries.filter((e) => !PROXY_NAMES.has(e) && !isAddressOrSubnet(e));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message:
        `must be false, a number of proxy hops, or a comma-separated list of addresses, subnets and ` +
        `loopback/linklocal/uniquelocal (not ${bad.map((e) => JSON.stringify(e)).join(', ')})`,
    });
    return z.NEVER;
  }
  return entries;
}

const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalString.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  ),
  // At least 2: migrations hold one connection for their lock while the migrator uses another.
  DATABASE_POOL_SIZE: int(10, 2, 200),
  PGLITE_DIR: z.string().min(1).default('.data/pglite'),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
  AI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  AI_TIMEOUT_MS: int(60_000, 100, 600_000),
  AI_MAX_RETRIES: int(1, 0, 10),
  AI_CONTEXT_TOKENS: int(8000, 100, 1_000_000),
  /** The whole answer (every model call and tool round) must end within this; the thread's lease is a little longer. */
  AI_ANSWER_TIMEOUT_MS: int(120_000, 200, 3_600_000),
  /** Added to the answer deadline to make the thread's lease: a crashed answer frees the thread after both. */
  THREAD_LEASE_GRACE_MS: int(15_000, 0, 600_000),
  /** On SIGTERM, how long answers in flight may take to finish before they are stopped (and marked failed). */
  SHUTDOWN_GRACE_MS: int(25_000, 0, 600_000),
  /** A request's headers and body must arrive within this (a trickling upload is cut); responses, streams included, are not limited. */
  REQUEST_TIMEOUT_MS: int(30_000, 1_000, 600_000),
  /** Prepended to every Redis key and channel, so that deployments can share one Redis without sharing limits or streams. */
  REDIS_PREFIX: z
    .string()
    .max(64)
    .regex(/^[\w:.-]*$/, 'may hold letters, digits and _ : . - only')
    .default('ai-threads:'),
  /** Comment lines sent on idle event streams so proxies keep them open. */
  SSE_HEARTBEAT_MS: int(15_000, 10, 600_000),
  REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional()),
  RATE_LIMIT_REQUESTS_PER_MINUTE: int(600, 1),
  RATE_LIMIT_MESSAGES_PER_MINUTE: int(20, 1),
  SIGN_IN_ATTEMPTS_PER_MINUTE_PER_EMAIL: int(10, 1),
  SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP: int(60, 1),
  /** Request guards: calls one tRPC batch may hold (more: the whole batch is refused with a 400). */
  TRPC_MAX_BATCH_SIZE: int(10, 1, 1000),
  /** Request guards: requests whose credentials fail to authenticate, per client IP a minute; then 429. */
  AUTH_FAILURES_PER_MINUTE_PER_IP: int(30, 1),
  MAX_BODY_BYTES: int(256 * 1024, 1024, 50 * 1024 * 1024),
  STATE_MAX_BYTES: int(DEFAULT_STATE_LIMITS.maxBytes, 2, 10 * 1024 * 1024),
  STATE_MAX_DEPTH: int(DEFAULT_STATE_LIMITS.maxDepth, 1, 1000),
  SESSION_TTL_SECONDS: int(30 * 24 * 3600, 60),
  /** Who may tell the client's IP (X-Forwarded-For): see trustProxy above. */
  TRUST_PROXY: z.string().default('false').transform(trustProxy),
  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: optionalString,
  /** The built example front end served at `/` (default: examples/form-copilot/dist of this checkout). */
  WEB_APP_DIR: z.string().default(DEFAULT_WEB_APP_DIR),
  /** Other origins trusted for browser calls (comma-separated): CORS with credentials, and cookie-authenticated mutations. */
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
});

export type Config = z.infer<typeof ConfigSchema>;

/** The state limits the configuration sets, for the services and the model's states alike. */
export function stateLimitsOf(config: Config): StateLimits {
  return { maxDepth: config.STATE_MAX_DEPTH, maxBytes: config.STATE_MAX_BYTES };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError whose message names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** The defaults, with overrides: for tests and tools that build an app without an environment. */
export function configWith(overrides: Partial<Record<keyof Config, string>> = {}): Config {
  return loadConfig({ ...overrides });
}
