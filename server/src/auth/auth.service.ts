// Identity rules: sign-up, sign-in (throttled), sessions with sliding expiry, and resolving a
// bearer or cookie token to a principal with its effective permissions.
import { isPermission, type contracts, type InputOf, type Permission } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import { AppError } from '../errors.js';
import type { RateLimiter, RateLimitResult } from '../rate-limit/limiter.js';
import * as repo from './auth.repo.js';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js';
import { newToken, parseToken, secretMatches } from './secrets.js';

export const DEFAULT_ROLE = 'member';

export interface Principal {
  user: Omit<repo.UserRow, 'passwordHash'>;
  permissions: Permission[];
  via: 'session' | 'api_token';
  sessionId: string | null;
  apiTokenId: number | null;
  /** Set when a session was renewed (sliding expiry): the cookie should be re-issued. */
  renewedUntil: Date | null;
}

export interface AuthServiceDeps {
  db: Database;
  limiter: RateLimiter;
  sessionTtlSeconds: number;
  signInPerEmail: number;
  signInPerIp: number;
  now?: () => Date;
}

const known = (list: readonly string[]) => list.filter(isPermission);

/** The results of sessionPermissions by role permission list (bounded: roles are few). */
const sessionPermissionsOf = new Map<string, Permission[]>();

/**
 * What a user holds when signed in: their role's permissions, and always the management of their
 * own API tokens, so that no role can leave someone unable to revoke a leaked token.
 */
function sessionPermissions(rolePermissions: readonly string[]): Permission[] {
  // Every authenticated request computes it, from one of a few roles' lists: kept per list.
  const key = rolePermissions.join('\n');
  let permissions = sessionPermissionsOf.get(key);
  if (!permissions) {
    permissions = known([...new Set([...rolePermissions, 'api_tokens.manage'])].sort());
    if (sessionPermissionsOf.size >= 100) sessionPermissionsOf.clear();
    sessionPermissionsOf.set(key, permissions);
  }
  return permissions.slice();
}

function tooManyAttempts(blocked: RateLimitResult): AppError {
  return new AppError('rate_limited', {
    headers: {
      'Retry-After': String(blocked.retryAfterSeconds),
      'X-RateLimit-Limit': String(blocked.limit),
      'X-RateLimit-Remaining': '0',
    },
  });
}

function publicUser(user: repo.UserRow): Principal['user'] {
  const { passwordHash: _omit, ...rest } = user;
  return rest;
}

export function createAuthService(deps: AuthServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const ttlMs = deps.sessionTtlSeconds * 1000;

  async function startSession(userId: number) {
    const token = newToken('session');
    const expiresAt = new Date(now().getTime() + ttlMs);
    await repo.insertSession(deps.db, { id: token.id, secretHash: token.secretHash, userId, expiresAt });
    return { token: token.token, expiresAt };
  }

  /** Stores a new user with the role named `roleName`; null when no role has that name. */
  async function createUser(input: InputOf<typeof contracts.auth.signUp>, roleName: string) {
    const role = await repo.findRoleByName(deps.db, roleName);
    if (!role) return null;
    const passwordHash = await hashPassword(input.password);
    const inserted = await repo.insertUser(deps.db, {
      email: input.email,
      name: input.name ?? null,
      passwordHash,
      roleId: role.id,
    });
    if (!inserted) throw AppError.field('email', 'The email has already been taken.');
    return publicUser((await repo.findUserById(deps.db, inserted.id))!);
  }

  return {
    createUser,

    async signUp(input: InputOf<typeof contracts.auth.signUp>) {
      const user = await createUser(input, DEFAULT_ROLE);
      if (!user) throw new AppError('internal', { message: `Role ${DEFAULT_ROLE} is missing.` });
      const session = await startSession(user.id);
      return { user, ...session };
    },

    async signIn(input: InputOf<typeof contracts.auth.signIn>, ip: string) {
      const email = input.email.trim().toLowerCase();
      // Each attempt takes its point before the password is checked: a check-then-count would let
      // parallel requests (or one tRPC batch) all pass the check before any of them was counted.
      // The IP goes first, so a request refused for its IP costs the email nothing.
      const byIp = await deps.limiter.consume('sign-in-ip', ip, deps.signInPerIp);
      if (!byIp.allowed) throw tooManyAttempts(byIp);
      const byEmail = await deps.limiter.consume('sign-in-email', email, deps.signInPerEmail);
      if (!byEmail.allowed) throw tooManyAttempts(byEmail);
      const user = await repo.findUserByEmail(deps.db, email);
      const ok = user ? await verifyPassword(user.passwordHash, input.password) : (await verifyAgainstDummy(input.password), false);
      if (!user || !ok) throw AppError.field('email', 'These credentials do not match our records.');
      // The owner proved the password: the guesses counted so far no longer matter.
      await deps.limiter.reset('sign-in-email', email, deps.signInPerEmail);
      const session = await startSession(user.id);
      return { user: publicUser(user), ...session };
    },

    /** Every role with its permissions. */
    roles() {
      return repo.listRoles(deps.db);
    },

    /**
     * The user with this email as their own session would act (for an operator's tools, which act
     * for a user without signing in); null when no user has the email.
     */
    async principalFor(email: string): Promise<Principal | null> {
      const found = await repo.findUserByEmail(deps.db, email);
      const row = found && (await repo.findUserById(deps.db, found.id));
      if (!row) return null;
      const { permissions, ...user } = row;
      return {
        user: publicUser(user),
        permissions: sessionPermissions(permissions),
        via: 'session',
        sessionId: null,
        apiTokenId: null,
        renewedUntil: null,
      };
    },

    /** Records that an API token was used (after a request it made succeeded). */
    async touchApiToken(apiTokenId: number) {
      await repo.touchApiToken(deps.db, apiTokenId, now());
    },

    async signOut(sessionId: string) {
      await repo.deleteSession(deps.db, sessionId);
    },

    /** The principal behind a token, or null when it is unknown, expired or revoked. */
    async authenticate(token: string): Promise<Principal | null> {
      const parsed = parseToken(token);
      if (!parsed) return null;
      const at = now();
      if (parsed.kind === 'session') {
        const row = await repo.findSessionWithUser(deps.db, parsed.id);
        if (!row || !secretMatches(parsed.secret, row.session.secretHash)) return null;
        if (row.session.expiresAt.getTime() <= at.getTime()) {
          await repo.deleteSession(deps.db, parsed.id);
          return null;
        }
        let renewedUntil: Date | null = null;
        if (row.session.expiresAt.getTime() - at.getTime() < ttlMs / 2) {
          renewedUntil = new Date(at.getTime() + ttlMs);
          await repo.extendSession(deps.db, parsed.id, renewedUntil);
        }
        return {
          user: publicUser(row.user),
          permissions: sessionPermissions(row.permissions),
          via: 'session',
          sessionId: parsed.id,
          apiTokenId: null,
          renewedUntil,
        };
      }
      const row = await repo.findApiTokenWithUser(deps.db, parsed.id);
      if (!row || !secretMatches(parsed.secret, row.token.secretHash)) return null;
      if (row.token.revokedAt) return null;
      if (row.token.expiresAt && row.token.expiresAt.getTime() <= at.getTime()) return null;
      // A token never holds more than its owner holds now, whatever it was created with.
      const owner = new Set<string>(sessionPermissions(row.permissions));
      return {
        user: publicUser(row.user),
        permissions: known(row.token.permissions.filter((p) => owner.has(p))),
        via: 'api_token',
        sessionId: null,
        apiTokenId: row.token.id,
        renewedUntil: null,
      };
    },
  };
}

