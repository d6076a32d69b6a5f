// The typed tRPC client for TypeScript front ends (`@ai-threads/sdk/trpc`): queries and mutations
// over httpLink, subscriptions (the streamed answer) over httpSubscriptionLink. AppRouter is the
// generated, standalone router type (src/generated/trpc-router.ts, from the contracts): it needs
// only @trpc/server's types, so an installed package is as fully typed as this workspace, and no
// server code ships or runs here.
import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type HTTPHeaders,
  type TRPCClient,
} from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import type { AppRouter } from './generated/trpc-router.js';

export type { AppRouter };
export type { AiThreadsTRPCErrorShape } from './core/trpc-error.js';

type SubscriptionLinkOptions = Parameters<typeof httpSubscriptionLink>[0];

export interface AiThreadsTRPCClientOptions {
  /** The tRPC endpoint, e.g. `http://localhost:3000/trpc` (`/trpc` is added to a bare origin). */
  url: string;
  /** A session or API token, sent as `Authorization: Bearer` (subscriptions too, with a fetch-based EventSource). */
  token?: string | undefined;
  /** Extra headers for queries and mutations (a function is called per request). */
  headers?: HTTPHeaders | (() => HTTPHeaders | Promise<HTTPHeaders>) | undefined;
  /** A fetch implementation for queries and mutations. */
  fetch?: typeof fetch | undefined;
  /**
   * The EventSource class for subscriptions: the browser's by default; on Node 20, the `eventsource`
   * package (its fetch-based EventSource also carries the token; a browser's sends cookies only).
   */
  EventSource?: SubscriptionLinkOptions['EventSource'];
}

/** `http://host:3000` → `http://host:3000/trpc`; a URL that already names an endpoint is kept. */
function trpcURL(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /^[a-z]+:\/\/[^/]+$/i.test(trimmed) ? `${trimmed}/trpc` : trimmed;
}

export function createAiThreadsTRPCClient<TRouter extends AnyTRPCRouter = AppRouter>(
  options: AiThreadsTRPCClientOptions,
): TRPCClient<TRouter> {
  const url = trpcURL(options.url);
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const headers = async (): Promise<HTTPHeaders> => {
    const extra = typeof options.headers === 'function' ? await options.headers() : (options.headers ?? {});
    return { ...extra, ...auth };
  };
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink<AppRouter>({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink<AppRouter, NonNullable<SubscriptionLinkOptions['EventSource']>>({
          url,
          ...(options.EventSource ? { EventSource: options.EventSource } : {}),
          eventSourceOptions: () => ({
            withCredentials: true,
            // Read by fetch-based EventSource implementations (the `eventsource` package); ignored by browsers.
            fetch: (input: string | URL | Request, init?: RequestInit) => {
              const merged = new Headers(init?.headers);
              for (const [name, value] of Object.entries(auth)) merged.set(name, value);
              return fetchImpl(input, { ...init, headers: merged });
            },
          }),
        }),
        false: httpLink<AppRouter>({ url, headers, ...(options.fetch ? { fetch: options.fetch } : {}) }),
      }),
    ],
  });
  // The links are the same whatever router type the caller names.
  return client as unknown as TRPCClient<TRouter>;
}
