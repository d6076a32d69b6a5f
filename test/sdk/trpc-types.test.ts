// The generated, standalone AppRouter of `@ai-threads/sdk/trpc` (client-sdk/src/generated/
// trpc-router.ts) against the server's real router: the same procedures of the same kinds, the same
// inputs, outputs and error shape, nested groups (`threads.state.revisions`) included. These are
// compile-time assertions: `tsc -b` (`npm run check`) fails when the two differ; the runtime part
// checks the procedure list against the live router.
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createAiThreadsTRPCClient, type AppRouter as GeneratedRouter } from '../../client-sdk/src/trpc.js';
import { appRouter, type AppRouter as ServerRouter } from '../../server/src/router.js';

/** Each procedure's kind (query, mutation, subscription), nested as the router nests them. */
type Kinds<R> = R extends { _def: { procedure: true; type: infer T } }
  ? T
  : R extends { _def: { record: infer Record } }
    ? Kinds<Record>
    : { [K in keyof R]: Kinds<R[K]> };

type GeneratedClient = ReturnType<typeof createAiThreadsTRPCClient<GeneratedRouter>>;
type ServerClient = ReturnType<typeof createAiThreadsTRPCClient<ServerRouter>>;

describe('the generated tRPC router type', () => {
  it('has the server router’s procedures, kinds, inputs, outputs and error shape', () => {
    expectTypeOf<Kinds<GeneratedRouter>>().toEqualTypeOf<Kinds<ServerRouter>>();
    expectTypeOf<inferRouterInputs<GeneratedRouter>>().toEqualTypeOf<inferRouterInputs<ServerRouter>>();
    expectTypeOf<inferRouterOutputs<GeneratedRouter>>().toEqualTypeOf<inferRouterOutputs<ServerRouter>>();
    expectTypeOf<inferRouterError<GeneratedRouter>>().toEqualTypeOf<inferRouterError<ServerRouter>>();
    // Whole clients are too deep for one comparison; the same groups, each the same, say as much.
    expectTypeOf<keyof GeneratedClient>().toEqualTypeOf<keyof ServerClient>();
    expectTypeOf<GeneratedClient['auth']>().toEqualTypeOf<ServerClient['auth']>();
    expectTypeOf<GeneratedClient['me']>().toEqualTypeOf<ServerClient['me']>();
    expectTypeOf<GeneratedClient['apiTokens']>().toEqualTypeOf<ServerClient['apiTokens']>();
    expectTypeOf<GeneratedClient['threads']>().toEqualTypeOf<ServerClient['threads']>();
    expectTypeOf<GeneratedClient['messages']>().toEqualTypeOf<ServerClient['messages']>();
    expectTypeOf<GeneratedClient['protocols']>().toEqualTypeOf<ServerClient['protocols']>();
    // Nested groups are routers of their own on the client: `client.threads.state.revisions.list`.
    expectTypeOf<GeneratedClient['threads']['state']>().toEqualTypeOf<ServerClient['threads']['state']>();
    expectTypeOf<GeneratedClient['threads']['state']['revisions']>().toEqualTypeOf<ServerClient['threads']['state']['revisions']>();
    expectTypeOf<GeneratedClient['messages']['proposal']>().toEqualTypeOf<ServerClient['messages']['proposal']>();
  });

  it('is the default router of createAiThreadsTRPCClient', () => {
    const client = createAiThreadsTRPCClient({ url: 'http://localhost:3000' });
    expectTypeOf(client.messages).toEqualTypeOf<GeneratedClient['messages']>();
    expectTypeOf(client.threads).toEqualTypeOf<ServerClient['threads']>();
  });

  it('names every procedure the server serves, with its kind', () => {
    const served = Object.fromEntries(
      Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(([path, procedure]) => [path, procedure._def.type]),
    );
    // The type-level Kinds above is checked by the compiler; this is its value, spelled out.
    const generated: Record<string, string> = {
      'auth.signUp': 'mutation',
      'auth.signIn': 'mutation',
      'auth.signOut': 'mutation',
      'me.get': 'query',
      'apiTokens.create': 'mutation',
      'apiTokens.list': 'query',
      'apiTokens.get': 'query',
      'apiTokens.revoke': 'mutation',
      'threads.create': 'mutation',
      'threads.list': 'query',
      'threads.get': 'query',
      'threads.update': 'mutation',
      'threads.delete': 'mutation',
      'threads.setHead': 'mutation',
      'threads.state.get': 'query',
      'threads.state.patch': 'mutation',
      'threads.state.revert': 'mutation',
      'threads.state.revisions.list': 'query',
      'threads.state.revisions.get': 'query',
      'messages.create': 'mutation',
      'messages.stream': 'subscription',
      'messages.cancel': 'mutation',
      'messages.list': 'query',
      'messages.get': 'query',
      'messages.regenerate': 'mutation',
      'messages.regenerateStream': 'subscription',
      'messages.siblings': 'query',
      'messages.proposal.accept': 'mutation',
      'messages.proposal.reject': 'mutation',
      'protocols.agui': 'subscription',
      'protocols.uiStream': 'subscription',
    } satisfies { [P in ProcedurePaths<Kinds<GeneratedRouter>>]: string };
    expect(served).toEqual(generated);
  });
});

/** The dotted path (`threads.state.revisions.list`) of every procedure of a Kinds tree, at any depth. */
type ProcedurePaths<T> = {
  [G in keyof T & string]: T[G] extends string ? G : `${G}.${ProcedurePaths<T[G]>}`;
}[keyof T & string];
