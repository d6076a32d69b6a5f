// Sign-up, sign-in, sign-out and /me: contract in, service call, resource out.
import type { contracts } from '@ai-threads/contracts';
import type { Handlers } from '../trpc/implement.js';
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

export const authHandlers: Handlers<typeof contracts.auth> = {
  async signUp({ ctx, input }) {
    const session = await ctx.services.auth.signUp(input);
    ctx.services.cookies.set(ctx.res, session.token, session.expiresAt);
    return { user: toUserResource(session.user), token: session.token };
  },

  async signIn({ ctx, input }) {
    const session = await ctx.services.auth.signIn(input, ctx.ip);
    ctx.services.cookies.set(ctx.res, session.token, session.expiresAt);
    return { user: toUserResource(session.user), token: session.token };
  },

  async signOut({ ctx }) {
    if (ctx.principal?.sessionId) await ctx.services.auth.signOut(ctx.principal.sessionId);
    ctx.services.cookies.clear(ctx.res);
  },
};

export const meHandlers: Handlers<typeof contracts.me> = {
  get: ({ ctx: { principal } }) => ({
    user: toUserResource(principal.user),
    permissions: principal.permissions,
    auth: { type: principal.via, api_token_id: principal.apiTokenId },
  }),
};
