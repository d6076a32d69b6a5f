// The tRPC instance: context and meta types, and the error formatter that gives every error the
// same message and field errors on both faces (http/error-response.ts renders both).
import { initTRPC } from '@trpc/server';
import type { Operation } from '@ai-threads/contracts';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { appErrorOf } from '../errors.js';
import { trpcErrorShape } from '../http/error-response.js';
import type { Context } from './context.js';

export type Meta = OpenApiMeta<{ operation?: Operation }>;

export const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // Keeps idle tRPC subscriptions (streamed answers) open through proxies.
    sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 30_000 } },
    errorFormatter({ shape, error, ctx }) {
      const app = appErrorOf(error);
      if (app.code === 'internal' && ctx) {
        ctx.log.error({ err: error.cause ?? error, path: shape.data.path }, 'unhandled error');
      }
      return trpcErrorShape(app, { code: shape.data.code, path: shape.data.path });
    },
  });
