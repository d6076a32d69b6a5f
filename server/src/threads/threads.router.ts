// Thread operations: contract in, service call, resource out.
import { contracts } from '@ai-threads/contracts';
import { IDEMPOTENCY_HEADER, idempotencyKeyFrom } from '../idempotency/idempotency.service.js';
import { t } from '../trpc/init.js';
import { fromContract, principalOf } from '../trpc/procedure.js';

const ops = contracts.threads;

export const threadsRouter = t.router({
  create: fromContract(ops.create).mutation(async ({ ctx, input }) => {
    const principal = principalOf(ctx);
    const key = idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]);
    // The request hash serialises the input: a state 10,000 levels deep must be refused first.
    ctx.services.threads.checkState(input.state);
    const result = await ctx.services.idempotency.run(
      principal.user.id,
      key,
      ops.create.name,
      input,
      201,
      () => ctx.services.threads.create(principal, input),
      (thread) => thread.id,
    );
    if (result.replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  }),
  list: fromContract(ops.list).query(({ ctx, input }) => ctx.services.threads.list(principalOf(ctx), input)),
  get: fromContract(ops.get).query(({ ctx, input }) => ctx.services.threads.get(principalOf(ctx), input.threadId)),
  update: fromContract(ops.update).mutation(({ ctx, input }) => ctx.services.threads.update(principalOf(ctx), input)),
  delete: fromContract(ops.delete).mutation(({ ctx, input }) => ctx.services.threads.delete(principalOf(ctx), input.threadId)),
});
