// The tRPC instance: context and meta types, and the error formatter that gives every error the
// same message and field errors on both faces (the REST face reshapes it in http/rest.ts).
import { initTRPC } from '@trpc/server';
import type { Operation } from '@ai-threads/contracts';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { appErrorOf } from '../errors.js';
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
      return {
        message: app.message,
        code: shape.code,
        data: {
          code: shape.data.code,
          httpStatus: app.status,
          path: shape.data.path,
          ...(app.fields ? { errors: app.fields } : {}),
          ...(app.headers['Retry-After'] ? { retryAfter: Number(app.headers['Retry-After']) } : {}),
        },
      };
    },
  });
