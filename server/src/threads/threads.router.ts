// Thread operations: contract in, service call, resource out.
import { contracts } from '@ai-threads/contracts';
import { IDEMPOTENCY_HEADER, idempotencyKeyFrom } from '../idempotency/idempotency.service.js';
import { stateHandlers } from '../state/state.router.js';
import type { Handlers } from '../trpc/implement.js';

export const threadsHandlers: Handlers<typeof contracts.threads> = {
  async create({ ctx, input }) {
    const key = idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]);
    // The request hash serialises the input: a state 10,000 levels deep must be refused first.
    ctx.services.threads.checkState(input.state);
    const result = await ctx.services.idempotency.run(
      ctx.principal.user.id,
      key,
      contracts.threads.create.name,
      input,
      201,
      () => ctx.services.threads.create(ctx.principal, input),
      (thread) => thread.id,
    );
    if (result.replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  },
  list: ({ ctx, input }) => ctx.services.threads.list(ctx.principal, input),
  get: ({ ctx, input }) => ctx.services.threads.get(ctx.principal, input.threadId),
  update: ({ ctx, input }) => ctx.services.threads.update(ctx.principal, input),
  delete: ({ ctx, input }) => ctx.services.threads.delete(ctx.principal, input.threadId),
  setHead: ({ ctx, input }) => ctx.services.threads.setHead(ctx.principal, input),
  state: stateHandlers,
};
