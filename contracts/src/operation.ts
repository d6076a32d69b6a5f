// The one way to declare an API operation. Every route of the service is a value made by
// `defineOperation`: the tRPC procedure, the REST route, the OpenAPI document and the SDK all read
// it. Edit this file only to add something every operation needs to declare.
import type { z } from 'zod';

export const PERMISSIONS = [
  'ai_threads.view',
  'ai_threads.create',
  'ai_threads.update',
  'ai_threads.delete',
  'ai_thread_messages.view',
  'ai_thread_messages.create',
  'api_tokens.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const KNOWN_PERMISSIONS = new Set<string>(PERMISSIONS);

/** Whether a name (from a role, a token or a command line) is one of PERMISSIONS. */
export function isPermission(name: string): name is Permission {
  return KNOWN_PERMISSIONS.has(name);
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** How a streamed operation writes its events (see `OperationConfig.framing`). */
export type StreamFraming = 'events' | 'ag-ui' | 'ui-message-stream';

/** Which rate-limit bucket a call counts against. */
export type RateLimitBucket = 'requests' | 'messages';

export interface OperationConfig<TInput extends z.ZodType, TOutput extends z.ZodType> {
  /** Dotted procedure name: the tRPC path and the OpenAPI operationId. */
  name: string;
  method: HttpMethod;
  /** The REST path under /api/v1, as the public docs spell it (`/ai/threads/{thread-id}`). */
  path: `/${string}`;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** `required`: 401 without valid credentials. `none`: credentials are optional. */
  auth: 'required' | 'none';
  permission?: Permission;
  rateLimit: RateLimitBucket;
  successStatus: 200 | 201 | 204;
  /** Honours an `Idempotency-Key` header (replays the first answer for 24 hours). */
  idempotent?: boolean;
  /** `sse`: answered as server-sent events (a tRPC subscription; a plain route on REST). */
  transport?: 'json' | 'sse';
  /**
   * How an `sse` operation's REST face writes its events; in every framing the procedure yields
   * `tracked(id, event)` and `output` describes one event. `events` (the default): `id`, `event`
   * and `data:` lines, the data naming its event in `type`. `ag-ui`: each event is an AG-UI event
   * object, written as its `data:` line by @ag-ui/encoder; a failure after the start is a
   * `RUN_ERROR` event. `ui-message-stream`: the AI SDK's UI message stream v1, one `data:` line
   * per part, then `data: [DONE]`, with the header `x-vercel-ai-ui-message-stream: v1`; a failure
   * after the start is an `error` part. Only `events` streams carry ids to resume with.
   */
  framing?: StreamFraming;
  input: TInput;
  output: TOutput;
  /** The error statuses this operation can answer, for the document and the SDK. */
  errors: readonly number[];
}

export interface Operation<TInput extends z.ZodType = z.ZodType, TOutput extends z.ZodType = z.ZodType>
  extends OperationConfig<TInput, TOutput> {
  /** The path with each `{kebab-name}` turned into `{camelName}`: the input field it fills. */
  routePath: `/${string}`;
  /** Input field name → the name the public path uses (`threadId` → `thread-id`). */
  pathParams: Record<string, string>;
}

/** What an operation's handler (and the service behind it) receives: its input, parsed. */
export type InputOf<Op extends { input: z.ZodType }> = z.output<Op['input']>;

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Declares an operation. The literal types of its method, auth and transport are kept (`const`), so
 * that the server's `implement` can type each handler and procedure from the contract alone.
 */
export function defineOperation<const C extends OperationConfig<z.ZodType, z.ZodType>>(
  config: C,
): C & Pick<Operation, 'routePath' | 'pathParams'> {
  const pathParams: Record<string, string> = {};
  const routePath = config.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    pathParams[camel(name)] = name;
    return `{${camel(name)}}`;
  }) as `/${string}`;
  return { ...config, routePath, pathParams };
}
