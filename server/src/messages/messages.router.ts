// Message operations: contract in, service call, resource out. The seed's create reads the
// Idempotency-Key header and marks replays.
import type { contracts } from '@ai-threads/contracts';
import { IDEMPOTENCY_HEADER, idempotencyKeyFrom } from '../idempotency/idempotency.service.js';
import { preconditionOf } from '../state/precondition.js';
import { proposalHandlers } from '../state/state.router.js';
import type { Handlers } from '../trpc/implement.js';

export const messagesHandlers: Handlers<typeof contracts.messages> = {
  async create({ ctx, input }) {
    const idempotencyKey = idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]);
    const precondition = preconditionOf({ face: ctx.face, headers: ctx.req.headers }, input.expected_state_version, 'expected_state_version');
    const result = await ctx.services.messages.create(ctx.principal, input, { idempotencyKey, precondition });
    if (result.replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  },
  stream: ({ ctx, input, signal }) =>
    ctx.services.streams.open(ctx.principal, input, {
      idempotencyKey: idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]),
      precondition: preconditionOf({ face: ctx.face, headers: ctx.req.headers }, input.expected_state_version, 'expected_state_version'),
      ...(signal ? { signal } : {}),
    }),
  async regenerate({ ctx, input }) {
    const idempotencyKey = idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]);
    const precondition = preconditionOf({ face: ctx.face, headers: ctx.req.headers }, input.expected_state_version, 'expected_state_version');
    const result = await ctx.services.messages.regenerate(ctx.principal, input, { idempotencyKey, precondition });
    if (result.replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  },
  regenerateStream: ({ ctx, input, signal }) =>
    ctx.services.streams.openRegenerate(ctx.principal, input, {
      idempotencyKey: idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]),
      precondition: preconditionOf({ face: ctx.face, headers: ctx.req.headers }, input.expected_state_version, 'expected_state_version'),
      ...(signal ? { signal } : {}),
    }),
  siblings: ({ ctx, input }) => ctx.services.messages.siblings(ctx.principal, input),
  cancel: ({ ctx, input }) => ctx.services.messages.cancel(ctx.principal, input),
  list: ({ ctx, input }) => ctx.services.messages.list(ctx.principal, input),
  get: ({ ctx, input }) => ctx.services.messages.get(ctx.principal, input),
  proposal: proposalHandlers,
};
