// Message operations: contract in, service call, resource out. The seed's create reads the
// Idempotency-Key header and marks replays.
import { tracked } from '@trpc/server';
import { contracts } from '@ai-threads/contracts';
import { IDEMPOTENCY_HEADER, idempotencyKeyFrom } from '../idempotency/idempotency.service.js';
import { t } from '../trpc/init.js';
import { fromContract, principalOf, streamFromContract } from '../trpc/procedure.js';

const ops = contracts.messages;

export const messagesRouter = t.router({
  create: fromContract(ops.create).mutation(async ({ ctx, input }) => {
    const idempotencyKey = idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]);
    const result = await ctx.services.messages.create(principalOf(ctx), input, { idempotencyKey });
    if (result.replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  }),
  stream: streamFromContract(ops.stream).subscription(async ({ ctx, input, signal }) => {
    const idempotencyKey = idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]);
    const events = await ctx.services.streams.open(principalOf(ctx), input, {
      idempotencyKey,
      ...(signal ? { signal } : {}),
    });
    return (async function* () {
      for await (const logged of events) yield tracked(logged.id, logged.event);
    })();
  }),
  cancel: fromContract(ops.cancel).mutation(({ ctx, input }) => ctx.services.messages.cancel(principalOf(ctx), input)),
  list: fromContract(ops.list).query(({ ctx, input }) => ctx.services.messages.list(principalOf(ctx), input)),
  get: fromContract(ops.get).query(({ ctx, input }) => ctx.services.messages.get(principalOf(ctx), input)),
});
