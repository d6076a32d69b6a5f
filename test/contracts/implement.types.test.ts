// The contracts table is the router: the compiler refuses a missing handler, a handler under a name
// no contract has, and a handler whose result does not match its contract. `npm run check` (tsc -b)
// fails if any `@ts-expect-error` below stops being an error; vitest then checks the runtime guard.
import { contracts, operations } from '@ai-threads/contracts';
import { describe, expect, it } from 'vitest';
import { appRouter } from '../../server/src/router.js';
import { implement, type Handlers } from '../../server/src/trpc/implement.js';

const threads = { get: contracts.threads.get };
const meOnly = { me: { get: contracts.me.get } };

function typeChecks() {
  // @ts-expect-error: a contract without a handler
  implement(threads, {});

  // @ts-expect-error: a renamed key (the contract's `get` is then missing, `fetch` unknown)
  implement(threads, { fetch: ({ ctx, input }) => ctx.services.threads.get(ctx.principal, input.threadId) });

  const wrongOutput: Handlers<typeof threads> = {
    // @ts-expect-error: a handler whose result is not the contract's output
    get: () => ({ id: 'not a number' }),
  };

  const narrowed: Handlers<typeof meOnly> = {
    me: {
      // The guards have refused anonymous callers: the principal is never null here.
      get: ({ ctx }) => ({
        user: { id: ctx.principal.user.id, email: '', name: '', role: 'user', created_at: '' },
        permissions: [],
        auth: { type: 'session', api_token_id: null },
      }),
    },
  };
  return [wrongOutput, narrowed];
}

describe('implement(contracts, handlers)', () => {
  it('makes one procedure per contract, named as the table names it', () => {
    void typeChecks;
    const procedures = Object.keys(appRouter._def.procedures).sort();
    const names = operations.map((op) => op.name).sort();
    expect(procedures).toEqual(names);
  });

  it('refuses at start a table node without a handler (for callers that bypass the types)', () => {
    expect(() => implement(threads, {} as never)).toThrow('No handler for get');
  });
});
