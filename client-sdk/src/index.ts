// The ai-threads client SDK: `new AiThreads({ baseURL, apiKey })` and its resources, the typed
// errors, pages, streams and the resource types (from the generated OpenAPI types). The typed tRPC
// client is the separate entry point `@ai-threads/sdk/trpc`.
export { AiThreads, AiThreads as default, normalizeBaseURL, type ClientOptions, type Fetch } from './client.js';
export { VERSION, VERSION as SDK_VERSION } from './version.js';
export type { RequestOptions } from './core/request-options.js';
export { APIPromise } from './core/api-promise.js';
export { CursorPage, PagePromise, type PageBody } from './core/pagination.js';
export { MessageStream } from './core/streaming.js';
export { DataStream } from './core/data-stream.js';
export { SSEStreamDecoder, SSEDecoder, LineDecoder, type ServerSentEvent } from './core/sse.js';
export {
  AiThreadsError,
  APIError,
  APIUserAbortError,
  APIConnectionError,
  APIConnectionTimeoutError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PreconditionFailedError,
  PreconditionRequiredError,
  PayloadTooLargeError,
  UnprocessableEntityError,
  ValidationError,
  RateLimitError,
  InternalServerError,
  BadGatewayError,
  ServiceUnavailableError,
  GatewayTimeoutError,
} from './core/error.js';
export type * from './types.js';
export type { paths, components, operations } from './generated/api.js';
