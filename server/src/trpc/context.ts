// The per-request context both faces share: the services, the request, and the caller's
// credentials, resolved lazily so that routes without auth never touch the database for them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/auth.service.js';
import { readCookie, SESSION_COOKIE } from '../auth/cookies.js';
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
  resolvePrincipal(): Promise<Principal | null>;
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

export function createContextFactory(services: Services, face: Face) {
  return ({ req, res }: { req: IncomingMessage; res: ServerResponse }): Context => {
    const expressReq = req as Request;
    const expressRes = res as Response;
    const credential = credentialOf(req);
    let principal: Promise<Principal | null> | undefined;
    return {
      services,
      req,
      res,
      face,
      requestId: String(expressRes.locals?.['requestId'] ?? ''),
      ip: expressReq.ip ?? req.socket.remoteAddress ?? 'unknown',
      log: (expressRes.locals?.['log'] as Logger | undefined) ?? services.logger,
      credential,
      nameOperation(name) {
        if (expressRes.locals) expressRes.locals['operation'] = name;
      },
      resolvePrincipal() {
        if (!principal) {
          principal = credential ? services.auth.authenticate(credential.token) : Promise.resolve(null);
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
