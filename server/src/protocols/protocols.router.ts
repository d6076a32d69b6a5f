// The agent protocols' operations: contract in, the protocol's service, its events out. They answer
// as every answering call does, so they read the Idempotency-Key and precondition the same way.
import type { contracts } from '@ai-threads/contracts';
import { answerOptions } from '../messages/messages.router.js';
import type { Handlers } from '../trpc/implement.js';

export const protocolsHandlers: Handlers<typeof contracts.protocols> = {
  // AG-UI's idempotency key is the run's `runId` (the service sets it), not a header.
  agui: ({ ctx, input, signal }) => {
    const { precondition } = answerOptions(ctx, {}, signal);
    return ctx.services.agui.run(ctx.principal, input, { precondition, ...(signal ? { signal } : {}) });
  },
  uiStream: ({ ctx, input, signal }) => ctx.services.uiStream.open(ctx.principal, input, answerOptions(ctx, input, signal)),
};
