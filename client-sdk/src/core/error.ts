// The SDK's errors: one class per HTTP status the API answers with (the seed's error table), plus
// connection failures, timeouts and user aborts. `APIError.generate` picks the class; edit this file
// when the API gains a status worth its own class.

/** Every error the SDK throws on purpose. */
export class AiThreadsError extends Error {
  override name = 'AiThreadsError';
}

/** The parsed `Retry-After` of a response, in seconds: delta-seconds or an HTTP date; null when absent. */
function retryAfterSeconds(headers: Headers | undefined, now: number = Date.now()): number | null {
  const value = headers?.get('retry-after');
  if (value == null || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function intHeader(headers: Headers | undefined, name: string): number | null {
  const value = headers?.get(name);
  if (value == null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

/** The API's `message`; for another body (a proxy's page), the status and the start of the text. */
function messageOf(status: number | undefined, body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  if (typeof body === 'string' && body.trim() !== '') return `${status ?? 'Error'}: ${body.trim().slice(0, 200)}`;
  return undefined;
}

/**
 * An answer the API gave with an error status (or, for connection errors, none). `body` is the
 * parsed JSON error body (`{"message"}`, plus `errors` on a 422); `requestId` the `X-Request-Id`.
 */
export class APIError<
  TStatus extends number | undefined = number | undefined,
  THeaders extends Headers | undefined = Headers | undefined,
  TBody = unknown,
> extends AiThreadsError {
  override name = 'APIError';
  /** The HTTP status; undefined when no response arrived. */
  readonly status: TStatus;
  readonly headers: THeaders;
  /** The parsed error body, e.g. `{"message": "Thread not found."}`. */
  readonly body: TBody;
  /** The `X-Request-Id` of the failed response: quote it when asking for help. */
  readonly requestId: string | null;
  /** Seconds the API asked to wait before retrying (`Retry-After`), when it said. */
  readonly retryAfter: number | null;

  constructor(status: TStatus, body: TBody, message: string | undefined, headers: THeaders, options?: { cause?: unknown }) {
    super(message ?? APIError.defaultMessage(status), options);
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.requestId = headers?.get('x-request-id') ?? null;
    this.retryAfter = retryAfterSeconds(headers);
  }

  private static defaultMessage(status: number | undefined): string {
    return status === undefined ? 'Connection error.' : `${status} status code (no body)`;
  }

  /** The error class for a status, built from the response's parsed body and headers. */
  static generate(status: number | undefined, body: unknown, headers: Headers | undefined, options?: { cause?: unknown }): APIError {
    if (status === undefined || headers === undefined) {
      return new APIConnectionError({ message: messageOf(status, body), cause: options?.cause });
    }
    const message = messageOf(status, body);
    switch (status) {
      case 400:
        return new BadRequestError(status, body, message, headers);
      case 401:
        return new AuthenticationError(status, body, message, headers);
      case 403:
        return new PermissionDeniedError(status, body, message, headers);
      case 404:
        return new NotFoundError(status, body, message, headers);
      case 409:
        return new ConflictError(status, body, message, headers);
      case 412:
        return new PreconditionFailedError(status, body, message, headers);
      case 413:
        return new PayloadTooLargeError(status, body, message, headers);
      case 422:
        return new UnprocessableEntityError(status, body, message, headers);
      case 428:
        return new PreconditionRequiredError(status, body, message, headers);
      case 429:
        return new RateLimitError(status, body, message, headers);
      case 502:
        return new BadGatewayError(status, body, message, headers);
      case 503:
        return new ServiceUnavailableError(status, body, message, headers);
      case 504:
        return new GatewayTimeoutError(status, body, message, headers);
    }
    if (status >= 500) return new InternalServerError(status, body, message, headers);
    return new APIError(status, body, message, headers);
  }
}

/** The request was aborted through its `signal` (or `stream.abort()`). */
export class APIUserAbortError extends APIError<undefined, undefined, undefined> {
  override name = 'APIUserAbortError';
  constructor({ message }: { message?: string } = {}) {
    super(undefined, undefined, message ?? 'Request was aborted.', undefined);
  }
}

/** No answer: the server could not be reached, or the connection broke. */
export class APIConnectionError extends APIError<undefined, undefined, undefined> {
  override name = 'APIConnectionError';
  constructor({ message, cause }: { message?: string | undefined; cause?: unknown } = {}) {
    super(undefined, undefined, message ?? 'Connection error.', undefined, cause === undefined ? undefined : { cause });
  }
}

/** No answer within the `timeout`. */
export class APIConnectionTimeoutError extends APIConnectionError {
  override name = 'APIConnectionTimeoutError';
  constructor({ message }: { message?: string } = {}) {
    super({ message: message ?? 'Request timed out.' });
  }
}

export class BadRequestError extends APIError<400, Headers> {
  override name = 'BadRequestError';
}

/** 401: no, unknown, expired or revoked credentials. */
export class AuthenticationError extends APIError<401, Headers> {
  override name = 'AuthenticationError';
}

/** 403: the caller or its token lacks the permission. */
export class PermissionDeniedError extends APIError<403, Headers> {
  override name = 'PermissionDeniedError';
}

/** 404: no such thread or message for this caller (another user's thread included). */
export class NotFoundError extends APIError<404, Headers> {
  override name = 'NotFoundError';
}

/** 409: the thread is answering an earlier message, or the idempotency key is in flight. */
export class ConflictError extends APIError<409, Headers> {
  override name = 'ConflictError';
}

/**
 * 412: the state moved on since the version you sent (`expected_version`, `expected_state_version`
 * or `If-Match`); nothing was stored. `currentVersion` is the body's `current_version` (the `ETag`
 * says the same): read the state, apply your change again, and retry with it.
 */
export class PreconditionFailedError extends APIError<412, Headers, { message: string; current_version: number }> {
  override name = 'PreconditionFailedError';
  /** The state's version now (the body's `current_version`); null when the body did not say. */
  readonly currentVersion: number | null;

  constructor(status: 412, body: unknown, message: string | undefined, headers: Headers) {
    super(status, body as { message: string; current_version: number }, message, headers);
    const current = body && typeof body === 'object' && 'current_version' in body ? body.current_version : undefined;
    this.currentVersion = typeof current === 'number' ? current : null;
  }
}

/** 428: the operation changes the state and needs a precondition: send `expected_version` or `If-Match`. */
export class PreconditionRequiredError extends APIError<428, Headers> {
  override name = 'PreconditionRequiredError';
}

export class PayloadTooLargeError extends APIError<413, Headers> {
  override name = 'PayloadTooLargeError';
}

/** 422: validation failed; `errors` maps each field to its messages (Laravel style). */
export class UnprocessableEntityError extends APIError<422, Headers> {
  override name = 'UnprocessableEntityError';
  readonly errors: Record<string, string[]>;

  constructor(status: 422, body: unknown, message: string | undefined, headers: Headers) {
    super(status, body, message, headers);
    const errors = body && typeof body === 'object' && 'errors' in body ? body.errors : undefined;
    this.errors = errors && typeof errors === 'object' ? (errors as Record<string, string[]>) : {};
  }
}

/**
 * The name the API's docs use for a 422.
 * @alias
 */
export const ValidationError = UnprocessableEntityError;
export type ValidationError = UnprocessableEntityError;

/** 429: too many requests; wait `retryAfter` seconds. */
export class RateLimitError extends APIError<429, Headers> {
  override name = 'RateLimitError';
  /** `X-RateLimit-Limit`: requests allowed per minute. */
  readonly limit: number | null;
  /** `X-RateLimit-Remaining`: requests left in this minute. */
  readonly remaining: number | null;

  constructor(status: 429, body: unknown, message: string | undefined, headers: Headers) {
    super(status, body, message, headers);
    this.limit = intHeader(headers, 'x-ratelimit-limit');
    this.remaining = intHeader(headers, 'x-ratelimit-remaining');
  }
}

/** 5xx. The user's message is kept (`failed`); a retry with the same idempotency key answers it. */
export class InternalServerError extends APIError<number, Headers> {
  override name = 'InternalServerError';
}

/** 502: the AI provider failed. */
export class BadGatewayError extends InternalServerError {
  override name = 'BadGatewayError';
}

export class ServiceUnavailableError extends InternalServerError {
  override name = 'ServiceUnavailableError';
}

/** 504: the AI provider did not answer in time. */
export class GatewayTimeoutError extends InternalServerError {
  override name = 'GatewayTimeoutError';
}
