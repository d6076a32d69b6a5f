// Personal API tokens: a token's permissions are a subset of its owner's (and, when a token makes
// a token, of that token's, and it expires no later than that token); the secret is returned once
// and only its hash is kept.
import { isPermission, type ApiToken, type contracts, type InputOf } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import type { Principal } from '../auth/auth.service.js';
import { newToken, tokenPreview } from '../auth/secrets.js';
import { AppError, type FieldErrors } from '../errors.js';
import { toPage } from '../pagination.js';
import * as repo from './api-tokens.repo.js';

function toApiTokenResource(row: repo.ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    permissions: row.permissions.filter(isPermission),
    token_prefix: tokenPreview(row.lookupId),
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
  };
}

export function createApiTokensService(deps: { db: Database; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  /** When the calling token expires; null for a session or a token that never expires. */
  async function makerExpiry(principal: Principal): Promise<Date | null> {
    if (principal.apiTokenId === null) return null;
    const maker = await repo.findApiToken(deps.db, principal.user.id, principal.apiTokenId);
    // Revoked between authentication and now: the credential no longer works.
    if (!maker) throw new AppError('unauthenticated');
    return maker.expiresAt;
  }

  return {
    async create(principal: Principal, input: InputOf<typeof contracts.apiTokens.create>) {
      const fields: FieldErrors = {};
      const held = new Set<string>(principal.permissions);
      input.permissions.forEach((p, i) => {
        if (!isPermission(p)) (fields[`permissions.${i}`] ??= []).push(`The permissions.${i} field must be a known permission (${p} is not).`);
        else if (!held.has(p)) (fields[`permissions.${i}`] ??= []).push(`The permissions.${i} field must be a permission you hold (${p} is not).`);
      });
      let expiresAt: Date | null = null;
      if (input.expires_at !== undefined) {
        expiresAt = new Date(input.expires_at);
        if (!(expiresAt.getTime() > now().getTime())) fields['expires_at'] = ['The expires at field must be a date in the future.'];
      }
      // A token cannot outlive the token that made it: otherwise a short-lived token would mint
      // itself an heir with no expiry and keep working for ever.
      const limit = await makerExpiry(principal);
      if (limit && !fields['expires_at']) {
        if (expiresAt === null) {
          fields['expires_at'] = [`The expires at field is required when a token that expires creates a token (at the latest ${limit.toISOString()}).`];
        } else if (expiresAt.getTime() > limit.getTime()) {
          fields['expires_at'] = [`The expires at field must be a date no later than ${limit.toISOString()}, when the token making it expires.`];
        }
      }
      if (Object.keys(fields).length > 0) throw new AppError('validation', { fields });
      const token = newToken('api_token');
      const row = await repo.insertApiToken(deps.db, {
        userId: principal.user.id,
        name: input.name,
        lookupId: token.id,
        secretHash: token.secretHash,
        permissions: [...new Set(input.permissions)],
        expiresAt,
      });
      return { api_token: toApiTokenResource(row), token: token.token };
    },

    async list(principal: Principal, page: InputOf<typeof contracts.apiTokens.list>) {
      const rows = await repo.listApiTokens(deps.db, principal.user.id, page);
      return toPage(rows, page, toApiTokenResource);
    },

    async get(principal: Principal, id: number) {
      const row = await repo.findApiToken(deps.db, principal.user.id, id);
      if (!row) throw new AppError('not_found', { message: 'API token not found.' });
      return toApiTokenResource(row);
    },

    async revoke(principal: Principal, id: number) {
      // Giving up one's own power needs no permission; taking another token's does.
      const itself = principal.apiTokenId === id;
      if (!itself && !principal.permissions.includes('api_tokens.manage')) throw new AppError('forbidden');
      if (!(await repo.revokeApiToken(deps.db, principal.user.id, id))) {
        throw new AppError('not_found', { message: 'API token not found.' });
      }
    },
  };
}

