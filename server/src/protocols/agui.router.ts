// The AG-UI route's handler: the run's input, its precondition (If-Match) and the client's going.
// The run's Idempotency-Key is its `runId` (the service sets it), not a header.
import type { contracts } from '@ai-threads/contracts';
import { answerOptions } from '../messages/messages.router.js';
import type { Handlers } from '../trpc/implement.js';

export const aguiHandler: Handlers<{ agui: typeof contracts.protocols.agui }>['agui'] = ({ ctx, input, signal }) => {
  const { precondition } = answerOptions(ctx, {}, signal);
  return ctx.services.agui.run(ctx.principal, input, { precondition, ...(signal ? { signal } : {}) });
};
