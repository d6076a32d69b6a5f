// The per-request context both faces share: the services, the request, and the caller's
// credentials, resolved lazily so that routes without auth never touch the database for them.
// Failed authentications are limited per client IP here, where every face resolves credentials.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/auth.service.js';
import { readCookie, SESSION_COOKIE } from '../auth/cookies.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';

export type Face = 'rest' | 'trpc';

export interface Credential {
  token: string;
  source: 'bearer' | 'cookie';
}

export interface Context {
  services: Services;
  req: IncomingMessage;
  res: ServerResponse;
  face: Face;
  requestId: string;
  ip: string;
  log: Logger;
  /** `undefined`: no credentials; `null`: credentials that are not valid. */
  credential: Credential | null | undefined;
  /** The caller, once the procedure's guards have resolved it (see trpc/procedure.ts). */
  principal?: Principal | null;
  resolvePrincipal(): Promise<Principal | null>;
  /** Notes a credential this call has just issued (a sign-in's token), as known to be valid. */
  credentialIssued(token: string): void;
  /** Names the request after its operation, for logs and metrics (never the raw path). */
  nameOperation(name: string): void;
}

function credentialOf(req: IncomingMessage): Credential | null | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? { token: match[1]!, source: 'bearer' } : null;
  }
  const cookie = readCookie(req, SESSION_COOKIE);
  return cookie ? { token: cookie, source: 'cookie' } : undefined;
}

const AUTH_FAILURES_BUCKET = 'auth_failures';

/** How long a credential that authenticated stays exempt from its IP's failure block. */
const RECENTLY_VALID_MS = 10 * 60_000;
/** Bounds the memory of exempt credentials; the oldest are forgotten first. */
const RECENTLY_VALID_MAX = 10_000;

/**
 * Fingerprints (SHA-256, never the token) of credentials that this instance issued or saw
 * authenticate lately. While an IP is blocked for failed authentications, its requests with unknown
 * credentials are refused before any database lookup; a caller whose credentials are in here (a
 * real user behind the same NAT as the attacker, or one who just signed in) is looked up and served
 * as usual. Per instance: behind several instances, a valid caller new to one of them may hear the
 * 429 until its IP's window passes.
 */
class RecentlyValid {
  private readonly until = new Map<string, number>();

  has(fingerprint: string, now: number): boolean {
    const until = this.until.get(fingerprint);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(fingerprint);
    return false;
  }

  add(fingerprint: string, now: number): void {
    // Re-inserted, so that the map's order stays oldest first.
    this.until.delete(fingerprint);
    this.until.set(fingerprint, now + RECENTLY_VALID_MS);
    if (this.until.size > RECENTLY_VALID_MAX) this.until.delete(this.until.keys().next().value!);
  }

  delete(fingerprint: string): void {
    this.until.delete(fingerprint);
  }
}

/** One memory per app (each face builds its own context factory). */
const memories = new WeakMap<Services, RecentlyValid>();

function recentlyValid(services: Services): RecentlyValid {
  let memory = memories.get(services);
  if (!memory) memories.set(services, (memory = new RecentlyValid()));
  return memory;
}

const fingerprintOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Resolves credentials to a principal, counting each failure (unknown, expired, revoked or
 * malformed credentials) against the client IP. Once the IP has failed AUTH_FAILURES_PER_MINUTE_PER_IP
 * times in the window, its further requests with credentials not known to be valid are a 429 with
 * Retry-After, before any lookup. Only failures take points, so the 401 answers themselves and every
 * valid caller's checks are unchanged; requests without credentials are not concerned. `ip` is read
 * only when needed: a caller whose credentials authenticated lately is never keyed by it.
 */
async function authenticate(services: Services, credential: Credential | null, ip: () => string): Promise<Principal | null> {
  const { config, limiter } = services;
  const limit = config.AUTH_FAILURES_PER_MINUTE_PER_IP;
  const key = () => `ip:${ip()}`;
  const recent = recentlyValid(services);
  const fingerprint = credential ? fingerprintOf(credential.token) : undefined;

  if (!fingerprint || !recent.has(fingerprint, Date.now())) {
    const state = await limiter.peek(AUTH_FAILURES_BUCKET, key(), limit);
    if (!state.allowed) {
      services.metrics.rateLimitRefusal(AUTH_FAILURES_BUCKET);
      throw new AppError('rate_limited', {
        headers: {
          'Retry-After': String(state.retryAfterSeconds),
          'X-RateLimit-Limit': String(limit),
          'X-RateLimit-Remaining': '0',
        },
      });
    }
  }

  const found = credential ? await services.auth.authenticate(credential.token) : null;
  if (found) {
    recent.add(fingerprint!, Date.now());
    return found;
  }
  if (fingerprint) recent.delete(fingerprint);
  await limiter.consume(AUTH_FAILURES_BUCKET, key(), limit);
  return null;
}

export function createContextFactory(services: Services, face: Face) {
  return ({ req, res }: { req: IncomingMessage; res: ServerResponse }): Context => {
    const expressReq = req as Request;
    const expressRes = res as Response;
    const credential = credentialOf(req);
    let ip: string | undefined;
    const clientIp = () => (ip ??= expressReq.ip ?? req.socket.remoteAddress ?? 'unknown');
    let principal: Promise<Principal | null> | undefined;
    return {
      services,
      req,
      res,
      face,
      requestId: String(expressRes.locals?.['requestId'] ?? ''),
      // Read when first needed: the client IP (through the proxies trusted) only keys the limits of
      // callers without valid credentials; the request's logger is made when something logs.
      get ip() {
        return clientIp();
      },
      get log() {
        return (expressRes.locals?.['log'] as Logger | undefined) ?? services.logger;
      },
      credential,
      credentialIssued(token) {
        recentlyValid(services).add(fingerprintOf(token), Date.now());
      },
      nameOperation(name) {
        if (expressRes.locals) expressRes.locals['operation'] = name;
      },
      resolvePrincipal() {
        if (!principal) {
          principal = credential === undefined ? Promise.resolve(null) : authenticate(services, credential, clientIp);
          void principal.then((found) => {
            // A refused request stores nothing, not even a token's last use.
            const tokenId = found?.apiTokenId;
            if (!tokenId) return;
            res.once('finish', () => {
              if (res.statusCode < 400) services.auth.touchApiToken(tokenId).catch(() => {});
            });
          }, () => {});
        }
        return principal;
      },
    };
  };
}
