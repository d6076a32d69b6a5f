// Personal API tokens: contract in, service call, resource out.
import type { contracts } from '@ai-threads/contracts';
import type { Handlers } from '../trpc/implement.js';

export const apiTokensHandlers: Handlers<typeof contracts.apiTokens> = {
  create: ({ ctx, input }) => ctx.services.apiTokens.create(ctx.principal, input),
  list: ({ ctx, input }) => ctx.services.apiTokens.list(ctx.principal, input),
  get: ({ ctx, input }) => ctx.services.apiTokens.get(ctx.principal, input.id),
  revoke: ({ ctx, input }) => ctx.services.apiTokens.revoke(ctx.principal, input.id),
};
