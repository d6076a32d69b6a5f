// Sign-up, sign-in, sign-out and /me: contract in, service call, resource out.
import { contracts } from '@ai-threads/contracts';
import { fromContract, principalOf } from '../trpc/procedure.js';
import { t } from '../trpc/init.js';
import type { Principal } from './auth.service.js';

type PublicUser = Principal['user'];

export function toUserResource(user: PublicUser) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    created_at: user.createdAt.toISOString(),
  };
}

export const authRouter = t.router({
  signUp: fromContract(contracts.auth.signUp).mutation(async ({ ctx, input }) => {
    const session = await ctx.services.auth.signUp(input);
    ctx.services.cookies.set(ctx.res, session.token, session.expiresAt);
    return { user: toUserResource(session.user), token: session.token };
  }),

  signIn: fromContract(contracts.auth.signIn).mutation(async ({ ctx, input }) => {
    const session = await ctx.services.auth.signIn(input, ctx.ip);
    ctx.services.cookies.set(ctx.res, session.token, session.expiresAt);
    return { user: toUserResource(session.user), token: session.token };
  }),

  signOut: fromContract(contracts.auth.signOut).mutation(async ({ ctx }) => {
    if (ctx.principal?.sessionId) await ctx.services.auth.signOut(ctx.principal.sessionId);
    ctx.services.cookies.clear(ctx.res);
  }),
});

export const meRouter = t.router({
  get: fromContract(contracts.me.get).query(({ ctx }) => {
    const principal = principalOf(ctx);
    return {
      user: toUserResource(principal.user),
      permissions: principal.permissions,
      auth: { type: principal.via, api_token_id: principal.apiTokenId },
    };
  }),
});
