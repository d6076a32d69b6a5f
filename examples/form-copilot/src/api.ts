// The typed tRPC client, and the resource types the app reads, all inferred from the service's
// router type (`AppRouter`): nothing here restates the API by hand. Queries and mutations go over
// plain HTTP, the streamed answers over server-sent events. Credentials are the session cookie the
// service sets at sign-in (same origin), which the browser sends by itself; the service's CSRF check
// is met because the browser adds `Origin` (fetch) or `Sec-Fetch-Site: same-origin` (EventSource).
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@ai-threads/server';

const url = `${window.location.origin}/trpc`;

export const api: TRPCClient<AppRouter> = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url }),
      false: httpLink({ url }),
    }),
  ],
});

type Api = typeof api;
type Output<P extends { query: (...args: never[]) => unknown } | { mutate: (...args: never[]) => unknown }> = Awaited<
  ReturnType<P extends { query: infer F extends (...args: never[]) => unknown } ? F : P extends { mutate: infer F extends (...args: never[]) => unknown } ? F : never>
>;

export type User = Output<Api['me']['get']>['user'];
export type Thread = Output<Api['threads']['get']>;
export type ThreadSummary = Output<Api['threads']['list']>['data'][number];
export type Message = Output<Api['messages']['get']>;
export type ThreadState = Output<Api['threads']['state']['get']>;
export type Revision = Output<Api['threads']['state']['revisions']['list']>['data'][number];
export type JsonPatch = NonNullable<Message['state_patch']>;
export type State = NonNullable<ThreadState['state']>;

// `subscribe` is overloaded; the form without callbacks is an async iterable of tracked events.
type Tracked = ReturnType<Api['messages']['stream']['subscribe']> extends AsyncIterable<infer T> ? T : never;
/** One event of a streamed answer: `{event: 'response.delta', data: {delta}}` and the others. */
export type StreamEvent = Tracked extends { data: infer E } ? E : never;
