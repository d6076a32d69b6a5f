// Message operations: contract in, service call, resource out. The calls that answer (create,
// regenerate, and their streams) read the Idempotency-Key and the precondition the same way.
import type { contracts } from '@ai-threads/contracts';
import { IDEMPOTENCY_HEADER, idempotencyKeyFrom } from '../idempotency/idempotency.service.js';
import { preconditionOf } from '../state/precondition.js';
import { proposalHandlers } from '../state/state.router.js';
import type { Context } from '../trpc/context.js';
import type { Handlers } from '../trpc/implement.js';
import type { CreateMessageResult } from './messages.service.js';

/**
 * What every call that answers takes from the request: its Idempotency-Key and its precondition
 * (If-Match on REST, or expected_state_version), and for a stream the signal of the client going.
 */
export function answerOptions(ctx: Context, input: { expected_state_version?: number | undefined }, signal?: AbortSignal) {
  return {
    idempotencyKey: idempotencyKeyFrom(ctx.req.headers[IDEMPOTENCY_HEADER]),
    precondition: preconditionOf({ face: ctx.face, headers: ctx.req.headers }, input.expected_state_version, 'expected_state_version'),
    ...(signal ? { signal } : {}),
  };
}

/** The JSON answer of a call that answers, marked when it replays a stored one. */
function answered(ctx: Context, result: CreateMessageResult) {
  if (result.replayed) ctx.res.setHeader('Idempotent-Replayed', 'true');
  return result.body;
}

export const messagesHandlers: Handlers<typeof contracts.messages> = {
  create: async ({ ctx, input }) => answered(ctx, await ctx.services.messages.create(ctx.principal, input, answerOptions(ctx, input))),
  stream: ({ ctx, input, signal }) => ctx.services.streams.open(ctx.principal, input, answerOptions(ctx, input, signal)),
  regenerate: async ({ ctx, input }) =>
    answered(ctx, await ctx.services.messages.regenerate(ctx.principal, input, answerOptions(ctx, input))),
  regenerateStream: ({ ctx, input, signal }) => ctx.services.streams.openRegenerate(ctx.principal, input, answerOptions(ctx, input, signal)),
  siblings: ({ ctx, input }) => ctx.services.messages.siblings(ctx.principal, input),
  cancel: ({ ctx, input }) => ctx.services.messages.cancel(ctx.principal, input),
  list: ({ ctx, input }) => ctx.services.messages.list(ctx.principal, input),
  get: ({ ctx, input }) => ctx.services.messages.get(ctx.principal, input),
  proposal: proposalHandlers,
};
