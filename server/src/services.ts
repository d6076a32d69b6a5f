// The services an app is made of, built from its dependencies. createApp receives them; tests
// build them with their own database, limiter and AI provider.
import type { ServerResponse } from 'node:http';
import type { DatabaseHandle } from '@ai-threads/db';
import { createApiTokensService } from './api-tokens/api-tokens.service.js';
import { createAuthService } from './auth/auth.service.js';
import { clearSessionCookie, setSessionCookie } from './auth/cookies.js';
import { createOfflineProvider } from './ai/offline-provider.js';
import { createOpenAiProvider } from './ai/openai-provider.js';
import type { AiProvider } from './ai/provider.js';
import type { Redis } from 'ioredis';
import type { JsonObject } from '@ai-threads/contracts';
import { stateLimitsOf, type Config } from './config.js';
import { stateProblem } from './state/limits.js';
import { createIdempotencyService } from './idempotency/idempotency.service.js';
import { AnswerRuns } from './messages/answer-runs.js';
import { createMessagesService } from './messages/messages.service.js';
import { createRedisEventLog } from './messages/shared-log.js';
import { createStreamsService } from './messages/streams.service.js';
import { createAguiService } from './protocols/agui.service.js';
import { createUiStreamService } from './protocols/ui-stream.service.js';
import { createStateService } from './state/state.service.js';
import { createThreadsService } from './threads/threads.service.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { RateLimiter } from './rate-limit/limiter.js';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  limiter: RateLimiter;
  /** Shared state across instances (stream events); its connection is closed with the services. */
  redis?: Redis;
  /** Metrics registry; a fresh one by default. */
  metrics?: Metrics;
  /** The model; by default OpenAI-compatible when OPENAI_API_KEY is set, else the offline model. */
  ai?: AiProvider;
  now?: () => Date;
}

function createAiProvider(config: Config, logger: Logger): AiProvider {
  const stateLimits = stateLimitsOf(config);
  // The model's states obey the same rules as the clients' (jsonb cannot store some strings).
  const checkState = (state: JsonObject) => stateProblem(state, stateLimits);
  if (!config.OPENAI_API_KEY) return createOfflineProvider({ stateLimits, checkState, logger });
  return createOpenAiProvider({
    apiKey: config.OPENAI_API_KEY,
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
    model: config.AI_MODEL,
    timeoutMs: config.AI_TIMEOUT_MS,
    maxRetries: config.AI_MAX_RETRIES,
    stateLimits,
    checkState,
    logger,
  });
}

export function createServices(deps: AppDeps) {
  const { config, database, limiter, logger } = deps;
  const db = database.db;
  const secure = config.NODE_ENV === 'production';
  const stateLimits = stateLimitsOf(config);
  const leaseMs = config.AI_ANSWER_TIMEOUT_MS + config.THREAD_LEASE_GRACE_MS;
  const ai = deps.ai ?? createAiProvider(config, logger);
  const idempotency = createIdempotencyService({ db, leaseMs, logger });
  const shutdown = new AbortController();
  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: config.NODE_ENV !== 'test' });
  const runs = new AnswerRuns();
  const sharedLog = deps.redis ? createRedisEventLog(deps.redis, logger, { prefix: config.REDIS_PREFIX, maxWaitMs: leaseMs }) : undefined;
  const messages = createMessagesService({
    db,
    ai,
    idempotency,
    logger,
    stateLimits,
    contextTokens: config.AI_CONTEXT_TOKENS,
    answerTimeoutMs: config.AI_ANSWER_TIMEOUT_MS,
    leaseMs,
    shutdownSignal: shutdown.signal,
    metrics,
    runs,
    sharedLog,
  });
  const state = createStateService({ db, stateLimits });
  const streams = createStreamsService({ db, messages, runs, leaseMs, sharedLog });
  return {
    metrics,
    /** Aborts the answers still running (after the grace period of a shutdown). */
    shutdown,
    /** Releases the database and the rate limiter's connections. */
    async close() {
      deps.redis?.disconnect();
      await database.close();
    },
    ai,
    idempotency,
    threads: createThreadsService({ db, stateLimits, forgetAnswers: messages.forgetAnswers }),
    messages,
    state,
    streams,
    agui: createAguiService({ db, messages, streams }),
    uiStream: createUiStreamService({ streams, messages }),
    config,
    logger,
    database,
    limiter,
    auth: createAuthService({
      db,
      limiter,
      sessionTtlSeconds: config.SESSION_TTL_SECONDS,
      signInPerEmail: config.SIGN_IN_ATTEMPTS_PER_MINUTE_PER_EMAIL,
      signInPerIp: config.SIGN_IN_ATTEMPTS_PER_MINUTE_PER_IP,
      ...(deps.now ? { now: deps.now } : {}),
    }),
    apiTokens: createApiTokensService({ db, ...(deps.now ? { now: deps.now } : {}) }),
    cookies: {
      set: (res: ServerResponse, token: string, expiresAt: Date) => setSessionCookie(res, token, expiresAt, secure),
      clear: (res: ServerResponse) => clearSessionCookie(res, secure),
    },
  };
}

export type Services = ReturnType<typeof createServices>;
