// Personal API tokens: contract in, service call, resource out.
import { contracts } from '@ai-threads/contracts';
import { t } from '../trpc/init.js';
import { fromContract, principalOf } from '../trpc/procedure.js';

const ops = contracts.apiTokens;

export const apiTokensRouter = t.router({
  create: fromContract(ops.create).mutation(({ ctx, input }) => ctx.services.apiTokens.create(principalOf(ctx), input)),
  list: fromContract(ops.list).query(({ ctx, input }) => ctx.services.apiTokens.list(principalOf(ctx), input)),
  get: fromContract(ops.get).query(({ ctx, input }) => ctx.services.apiTokens.get(principalOf(ctx), input.id)),
  revoke: fromContract(ops.revoke).mutation(({ ctx, input }) => ctx.services.apiTokens.revoke(principalOf(ctx), input.id)),
});
