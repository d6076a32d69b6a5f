// The services an app is made of, built from its dependencies. createApp receives them; tests
// build them with their own database, limiter and AI provider.
import type { ServerResponse } from 'node:http';
import type { DatabaseHandle } from '@ai-threads/db';
import { createApiTokensService } from './api-tokens/api-tokens.service.js';
import { createAuthService } from './auth/auth.service.js';
import { clearSessionCookie, setSessionCookie } from './auth/cookies.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { RateLimiter } from './rate-limit/limiter.js';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  limiter: RateLimiter;
  now?: () => Date;
}

export function createServices(deps: AppDeps) {
  const { config, database, limiter, logger } = deps;
  const db = database.db;
  const secure = config.NODE_ENV === 'production';
  return {
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
