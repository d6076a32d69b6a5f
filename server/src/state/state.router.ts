// State operations: contract in, the precondition read from both places (If-Match, the body),
// service call, resource out with its ETag.
import type { contracts } from '@ai-threads/contracts';
import type { Context } from '../trpc/context.js';
import type { Handlers } from '../trpc/implement.js';
import { etagOf, preconditionOf } from './precondition.js';

/** The REST face names the version in the ETag header too. */
function withEtag<T extends { version: number }>(ctx: Context, result: T): T {
  if (ctx.face === 'rest') ctx.res.setHeader('ETag', etagOf(result.version));
  return result;
}

const preconditionFrom = (ctx: Context, expected: number | undefined) => preconditionOf({ face: ctx.face, headers: ctx.req.headers }, expected);

export const stateHandlers: Handlers<typeof contracts.threads.state> = {
  get: async ({ ctx, input }) => withEtag(ctx, await ctx.services.state.get(ctx.principal, input.threadId)),
  patch: async ({ ctx, input }) =>
    withEtag(ctx, await ctx.services.state.patch(ctx.principal, input, preconditionFrom(ctx, input.expected_version))),
  revert: async ({ ctx, input }) =>
    withEtag(ctx, await ctx.services.state.revert(ctx.principal, input, preconditionFrom(ctx, input.expected_version))),
  revisions: {
    list: ({ ctx, input }) => ctx.services.state.listRevisions(ctx.principal, input),
    get: ({ ctx, input }) => ctx.services.state.getRevision(ctx.principal, input),
  },
};

export const proposalHandlers: Handlers<typeof contracts.messages.proposal> = {
  accept: async ({ ctx, input }) =>
    withEtag(ctx, await ctx.services.state.acceptProposal(ctx.principal, input, preconditionFrom(ctx, input.expected_version))),
  reject: ({ ctx, input }) => ctx.services.state.rejectProposal(ctx.principal, input),
};
