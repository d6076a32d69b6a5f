// The contracts table is the router: `implement(contracts, handlers)` builds one tRPC procedure per
// contract, and its types require exactly one handler per contract, with the input, output and
// caller inferred from the contract. A renamed key or a missing handler is a compile error, not a
// convention. The REST face (trpc-to-openapi), the SSE routes, the document and the SDK all read
// the router or the same table. Edit this file only to change how every operation is served.
import type { TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure } from '@trpc/server';
import { isOperation, type Operation } from '@ai-threads/contracts';
import type { z } from 'zod';
import type { Principal } from '../auth/auth.service.js';
import type { Context } from './context.js';
import { t, type Meta } from './init.js';
import { procedureFor } from './procedure.js';

type AnyOperation = Operation<z.ZodType, z.ZodType>;

/** The caller a handler sees: never null where the contract requires authentication. */
type HandlerContext<Op> = Context & { principal: Op extends { auth: 'required' } ? Principal : Principal | null };

interface HandlerOptions<Op extends AnyOperation> {
  ctx: HandlerContext<Op>;
  input: z.output<Op['input']>;
  /** Aborted when the client goes away (a closed stream). */
  signal: AbortSignal | undefined;
}

/** One event of a streamed operation, with the id a client resumes after. */
interface StreamedEvent<T> {
  id: string;
  event: T;
}

/**
 * A contract's handler: its result is the contract's output. A streamed (`sse`) operation resolves
 * with its events once the call is accepted, so that refusals are errors before the first event.
 */
type Handler<Op extends AnyOperation> = Op extends { transport: 'sse' }
  ? (opts: HandlerOptions<Op>) => Promise<AsyncIterable<StreamedEvent<z.input<Op['output']>>>>
  : (opts: HandlerOptions<Op>) => Promise<z.input<Op['output']>> | z.input<Op['output']>;

/** One handler per contract, nested as the table nests them. */
export type Handlers<T> = { [K in keyof T]: T[K] extends AnyOperation ? Handler<T[K]> : Handlers<T[K]> };

type ErrorShape = (typeof t)['_config']['$types']['errorShape'];
/**
 * Exported so that the declaration of AppRouter (router.ts) can name it.
 * @public
 */
export interface Def<Op extends AnyOperation, Output> {
  input: z.input<Op['input']>;
  output: Output;
  meta: Meta;
  errorShape: ErrorShape;
}

/** The procedure type tRPC would infer for a contract: what the typed client reads. */
type ProcedureFor<Op extends AnyOperation> = Op extends { transport: 'sse' }
  ? TRPCSubscriptionProcedure<Def<Op, AsyncIterable<{ id: string; data: z.output<Op['output']> }, void, unknown>>>
  : Op extends { method: 'GET' }
    ? TRPCQueryProcedure<Def<Op, z.output<Op['output']>>>
    : TRPCMutationProcedure<Def<Op, z.output<Op['output']>>>;

// The table is `as const`; a router's record is not readonly (as `t.router` types it), so neither is this.
type RouterRecordFor<T> = { -readonly [K in keyof T]: T[K] extends AnyOperation ? ProcedureFor<T[K]> : RouterRecordFor<T[K]> };

function build(table: object, handlers: object, at: string): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(table)) {
    const handler = (handlers as Record<string, unknown>)[key];
    if (handler === undefined) throw new Error(`No handler for ${at}${key}`);
    record[key] = isOperation(node)
      ? procedureFor(node, handler as (opts: never) => unknown)
      : build(node as object, handler as object, `${at}${key}.`);
  }
  return record;
}

/** The tRPC router of a contracts table, from one handler per contract. */
export function implement<T extends object>(table: T, handlers: Handlers<T>) {
  return t.router(build(table, handlers, '') as RouterRecordFor<T>);
}
