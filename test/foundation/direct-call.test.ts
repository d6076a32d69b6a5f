// The REST face calls a JSON operation's steps as one plain function (trpc/procedure.ts
// `DirectCall`), not through tRPC's middleware engine. Both must answer alike: the same output, and
// the same error (status, message, field errors) for every way a call fails. Each case here runs an
// operation both ways, on a context that records what the guards did.
import { defineOperation, IdParam } from '@ai-threads/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, appErrorOf } from '../../server/src/errors.js';
import type { Context } from '../../server/src/trpc/context.js';
import { t } from '../../server/src/trpc/init.js';
import { directCallOf, procedureFor } from '../../server/src/trpc/procedure.js';

const op = defineOperation({
  name: 'probe',
  method: 'POST',
  path: '/probe/{thread-id}',
  summary: 'A probe',
  tags: ['probe'],
  auth: 'none',
  rateLimit: 'requests',
  successStatus: 201,
  input: z.object({
    threadId: IdParam,
    name: z.string().min(1),
    // An asynchronous rule: parsed as tRPC parses it (parseAsync once parse cannot).
    code: z
      .string()
      .refine(async (code) => code !== 'taken', { message: 'is taken' })
      .optional(),
  }),
  output: z.object({ id: z.number(), name: z.string(), upper: z.string().transform((s) => s.toUpperCase()) }),
  errors: [422, 429],
});

type Handler = (opts: { ctx: Context; input: z.output<typeof op.input> }) => unknown;

interface Probe {
  ctx: Context;
  headers: Record<string, string>;
}

function probeContext(options: { allowed?: boolean } = {}): Probe {
  const headers: Record<string, string> = {};
  const ctx = {
    face: 'rest',
    req: { headers: {} },
    res: { setHeader: (name: string, value: string) => (headers[name] = value) },
    credential: undefined,
    services: {
      config: { RATE_LIMIT_REQUESTS_PER_MINUTE: 60, RATE_LIMIT_MESSAGES_PER_MINUTE: 10 },
      limiter: {
        consume: async () => ({ allowed: options.allowed ?? true, limit: 60, remaining: options.allowed === false ? 0 : 59, retryAfterSeconds: 7 }),
      },
      metrics: { rateLimitRefusal: () => {} },
    },
    resolvePrincipal: async () => null,
    nameOperation: () => {},
    credentialIssued: () => {},
  } as unknown as Context;
  return { ctx, headers };
}

/** The call through tRPC (a caller of a router of the one procedure) and the direct one. */
async function bothWays(handler: Handler, raw: Record<string, unknown>, options: { allowed?: boolean } = {}) {
  const procedure = procedureFor(op, handler as never);
  const viaTrpc = probeContext(options);
  const caller = t.router({ probe: procedure }).createCaller(viaTrpc.ctx);
  const direct = probeContext(options);
  const settle = (promise: Promise<unknown>) =>
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error: appErrorOf(error) }),
    );
  return {
    trpc: { ...(await settle(caller.probe(raw as never))), headers: viaTrpc.headers },
    direct: { ...(await settle(directCallOf(procedure)!(direct.ctx, raw))), headers: direct.headers },
  };
}

const echo: Handler = ({ input }) => ({ id: input.threadId, name: input.name, upper: input.name, extra: 'dropped' });
const shapeOf = (error: AppError) => ({ status: error.status, message: error.message, fields: error.fields, headers: error.headers });

describe('a JSON operation called directly (the REST face) and through tRPC', () => {
  it('gives the same output: the REST path segment as an integer, the output parsed (transformed, unknown keys dropped)', async () => {
    const { trpc, direct } = await bothWays(echo, { threadId: '42', name: 'ada' });
    expect(direct).toEqual(trpc);
    expect(direct.ok && direct.value).toEqual({ id: 42, name: 'ada', upper: 'ADA' });
    expect(direct.headers).toEqual({ 'X-RateLimit-Limit': '60', 'X-RateLimit-Remaining': '59' });
  });

  it('refuses an invalid input with the same 422, named as the public path names its parameters', async () => {
    const { trpc, direct } = await bothWays(echo, { threadId: '012', name: '' });
    expect(trpc.ok || direct.ok).toBe(false);
    if (trpc.ok || direct.ok) return;
    expect(shapeOf(direct.error)).toEqual(shapeOf(trpc.error));
    expect(direct.error.status).toBe(422);
    expect(Object.keys(direct.error.fields ?? {}).sort()).toEqual(['name', 'thread-id']);
  });

  it('checks an asynchronous rule as tRPC does', async () => {
    const { trpc, direct } = await bothWays(echo, { threadId: '1', name: 'ada', code: 'taken' });
    if (trpc.ok || direct.ok) throw new Error('expected both to refuse');
    expect(shapeOf(direct.error)).toEqual(shapeOf(trpc.error));
    expect(direct.error.fields).toEqual({ code: ['The code field is taken.'] });
    const free = await bothWays(echo, { threadId: '1', name: 'ada', code: 'free' });
    expect(free.direct).toEqual(free.trpc);
    expect(free.direct.ok).toBe(true);
  });

  it('answers an output that breaks its contract with a 500 that reveals nothing', async () => {
    const { trpc, direct } = await bothWays(() => ({ id: 'not a number', name: 1 }), { threadId: '1', name: 'ada' });
    if (trpc.ok || direct.ok) throw new Error('expected both to fail');
    expect(shapeOf(direct.error)).toEqual(shapeOf(trpc.error));
    expect(direct.error).toMatchObject({ status: 500, message: 'Server Error.' });
    expect(direct.error.cause).toBeInstanceOf(z.ZodError);
  });

  it("passes a handler's app error on unchanged, and refuses before the handler when the limit is reached", async () => {
    const refusing: Handler = () => {
      throw new AppError('conflict', { message: 'Taken.', details: { current_version: 3 } });
    };
    const refused = await bothWays(refusing, { threadId: '1', name: 'ada' });
    if (refused.trpc.ok || refused.direct.ok) throw new Error('expected both to fail');
    expect(shapeOf(refused.direct.error)).toEqual(shapeOf(refused.trpc.error));
    expect(refused.direct.error.details).toEqual({ current_version: 3 });

    let ran = 0;
    const limited = await bothWays(() => ((ran += 1), echo), { threadId: '1', name: 'ada' }, { allowed: false });
    if (limited.trpc.ok || limited.direct.ok) throw new Error('expected both to be limited');
    expect(shapeOf(limited.direct.error)).toEqual(shapeOf(limited.trpc.error));
    expect(limited.direct.error.status).toBe(429);
    expect(limited.direct.error.headers).toEqual({ 'Retry-After': '7' });
    expect(ran).toBe(0);
  });
});
