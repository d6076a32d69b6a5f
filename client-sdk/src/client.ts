// The AiThreads client: configuration, and the one request path every resource method takes —
// URL and headers, the per-call Idempotency-Key, the timeout, and retries with jittered
// exponential backoff that honour Retry-After. Resources (src/resources/, generated from the
// contracts) only name operations; `client.threads` and the others come from there.
import { APIPromise, readBody, type APIResponseProps } from './core/api-promise.js';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, AiThreadsError } from './core/error.js';
import { PagePromise, type PageFetcher, type PageRequest } from './core/pagination.js';
import type { RequestOptions } from './core/request-options.js';
import { DataStream } from './core/data-stream.js';
import { MessageStream } from './core/streaming.js';
import { backoffMs, linkedController, retryDelayMs, sleep, timeout as startTimeout, uuid4 } from './core/utils.js';
import { createResources, type Resources } from './resources/index.js';

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /**
   * Where the service runs, e.g. `http://localhost:3000`; `/api/v1` is added unless the URL
   * already ends with it. Default: `AI_THREADS_BASE_URL`, else `http://localhost:3000`.
   */
  baseURL?: string | undefined;
  /** A session token or personal API token, sent as `Authorization: Bearer`. Default: `AI_THREADS_API_KEY`. */
  apiKey?: string | null | undefined;
  /** Retries after a 409 busy, 429, 5xx or connection error. Default 2. */
  maxRetries?: number | undefined;
  /** Milliseconds per attempt. Default 5 minutes (an answer may take up to two). */
  timeout?: number | undefined;
  /** A fetch implementation (default: the global one). */
  fetch?: Fetch | undefined;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string> | undefined;
}

type HTTPMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface APIRequest {
  method: HTTPMethod;
  /** Under /api/v1, starting with a slash; path parameters already encoded. */
  path: string;
  query?: Record<string, unknown> | undefined;
  body?: unknown;
  /** For `text/event-stream` answers. */
  accept?: string;
}

/** An answer with a success status; `release()` ends its timeout and signal link once the body is read. */
export interface OpenResponse extends APIResponseProps {
  /** Aborts this attempt (its body included). */
  controller: AbortController;
  /** Stops the attempt's timeout, leaving the abort link: for bodies read over a long time. */
  clearTimeout(): void;
}

const DEFAULT_BASE_URL = 'http://localhost:3000';
const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;
const DEFAULT_MAX_RETRIES = 2;

function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value ? value : undefined;
}

/** `http://host:3000`, `http://host:3000/`, `http://host:3000/api/v1/` → `http://host:3000/api/v1`. */
export function normalizeBaseURL(baseURL: string): string {
  const trimmed = baseURL.replace(/\/+$/, '');
  return /\/api\/v1$/.test(trimmed) ? trimmed : `${trimmed}/api/v1`;
}

/** Retry a failed answer? 409 only when the server says when (`Retry-After`: busy, key in flight). */
function shouldRetry(response: Response): boolean {
  const explicit = response.headers.get('x-should-retry');
  if (explicit === 'true') return true;
  if (explicit === 'false') return false;
  const { status } = response;
  if (status === 409) return response.headers.has('retry-after');
  return status === 408 || status === 429 || status >= 500;
}

/** The error body: parsed JSON, else the text as is (a proxy's HTML page), else undefined. */
async function errorBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// The resource properties (`client.threads`, …) are declared by the generated Resources interface.
export interface AiThreads extends Resources {}

export class AiThreads implements PageFetcher {
  readonly baseURL: string;
  readonly apiKey: string | null;
  readonly maxRetries: number;
  readonly timeout: number;
  readonly #options: ClientOptions;
  readonly #fetch: Fetch;

  constructor(options: ClientOptions = {}) {
    this.#options = options;
    this.baseURL = normalizeBaseURL(options.baseURL ?? readEnv('AI_THREADS_BASE_URL') ?? DEFAULT_BASE_URL);
    this.apiKey = options.apiKey === undefined ? (readEnv('AI_THREADS_API_KEY') ?? null) : options.apiKey;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) throw new AiThreadsError('maxRetries must be an integer ≥ 0.');
    if (!(this.timeout > 0)) throw new AiThreadsError('timeout must be a positive number of milliseconds.');
    const fetchImpl = options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
    if (!fetchImpl) throw new AiThreadsError('No fetch implementation: pass `fetch` in the client options.');
    this.#fetch = fetchImpl;
    Object.assign(this, createResources(this));
  }

  /** A client with these options changed, e.g. `client.withOptions({ apiKey: session.token })`. */
  withOptions(options: ClientOptions): AiThreads {
    return new AiThreads({ ...this.#options, baseURL: this.baseURL, apiKey: this.apiKey, ...options });
  }

  get<T>(path: string, query?: Record<string, unknown>, options?: RequestOptions): APIPromise<T> {
    return this.request<T>({ method: 'GET', path, query }, options);
  }

  post<T>(path: string, body?: unknown, options?: RequestOptions): APIPromise<T> {
    return this.request<T>({ method: 'POST', path, body }, options);
  }

  patch<T>(path: string, body?: unknown, options?: RequestOptions): APIPromise<T> {
    return this.request<T>({ method: 'PATCH', path, body }, options);
  }

  delete<T>(path: string, options?: RequestOptions): APIPromise<T> {
    return this.request<T>({ method: 'DELETE', path }, options);
  }

  /** A JSON call: the parsed body (undefined for 204). */
  request<T>(request: APIRequest, options: RequestOptions = {}): APIPromise<T> {
    return new APIPromise<T>(this.send(request, options), (props) =>
      readBody(props, async (response) => {
        if (response.status === 204) return undefined as T;
        const type = response.headers.get('content-type') ?? '';
        return (type.includes('json') ? await response.json() : await response.text()) as T;
      }),
    );
  }

  /** The first page of a list; the page fetches the next ones the same way. */
  getPage<Item>(request: PageRequest): PagePromise<Item> {
    return new PagePromise<Item>(this, request, this.send({ method: 'GET', path: request.path, query: request.query }, request.options));
  }

  getAPIList<Item>(path: string, query: Record<string, unknown> = {}, options: RequestOptions = {}): PagePromise<Item> {
    return this.getPage<Item>({ path, query, options });
  }

  /**
   * A POST answered as server-sent events, sent when the stream is first read. One Idempotency-Key
   * per call, reused by every retry and reconnect, so the server answers the same message instead
   * of storing a second one.
   */
  postStream(path: string, body: unknown, options: RequestOptions = {}): MessageStream {
    const idempotencyKey = options.idempotencyKey ?? uuid4();
    const request = { method: 'POST' as const, path, body, accept: 'text/event-stream' };
    return new MessageStream(
      (lastEventId, signal) =>
        this.open(
          request,
          { ...options, signal, headers: { ...options.headers, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } },
          idempotencyKey,
        ),
      { maxRetries: options.maxRetries ?? this.maxRetries, timeout: options.timeout ?? this.timeout, signal: options.signal },
    );
  }

  /**
   * A POST answered in a protocol's own stream (the AI SDK's UI message stream, AG-UI): the JSON
   * of each `data:` line, sent when first read. One Idempotency-Key per call, reused by retries.
   */
  postDataStream<Part>(path: string, body: unknown, options: RequestOptions = {}): DataStream<Part> {
    const idempotencyKey = options.idempotencyKey ?? uuid4();
    const request = { method: 'POST' as const, path, body, accept: 'text/event-stream' };
    return new DataStream<Part>((signal) => this.open(request, { ...options, signal }, idempotencyKey), {
      timeout: options.timeout ?? this.timeout,
      signal: options.signal,
    });
  }

  buildURL(path: string, query?: Record<string, unknown>): string {
    const url = `${this.baseURL}${path}`;
    if (!query) return url;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null) continue;
      params.append(key, String(value));
    }
    const search = params.toString();
    return search ? `${url}?${search}` : url;
  }

  #headers(request: APIRequest, options: RequestOptions, idempotencyKey: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: request.accept ?? 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`;
    for (const source of [this.#options.defaultHeaders, options.headers]) {
      for (const [name, value] of Object.entries(source ?? {})) {
        if (value === null || value === undefined) delete headers[name.toLowerCase()];
        else headers[name.toLowerCase()] = value;
      }
    }
    return headers;
  }

  /** Sends a JSON call, with one Idempotency-Key per POST call, kept across its retries. */
  send(request: APIRequest, options: RequestOptions = {}): Promise<OpenResponse> {
    const idempotencyKey = request.method === 'POST' ? (options.idempotencyKey ?? uuid4()) : undefined;
    return this.open(request, options, idempotencyKey);
  }

  /**
   * Sends the request until it gets an answer with a success status, retrying what is safe to
   * retry; throws the typed APIError of the last failed answer. The caller reads the body.
   */
  async open(request: APIRequest, options: RequestOptions, idempotencyKey: string | undefined): Promise<OpenResponse> {
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const timeout = options.timeout ?? this.timeout;
    const url = this.buildURL(request.path, request.query);
    const headers = this.#headers(request, options, idempotencyKey);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);

    for (let retriesDone = 0; ; retriesDone += 1) {
      const canRetry = retriesDone < maxRetries;
      if (options.signal?.aborted) throw new APIUserAbortError();
      const { controller, unlink } = linkedController(options.signal);
      let timedOut = false;
      const timer = startTimeout(timeout, () => {
        timedOut = true;
        controller.abort();
      });
      const release = () => {
        clearTimeout(timer);
        unlink();
      };

      let response: Response;
      try {
        response = await this.#fetch(url, { method: request.method, headers, body, signal: controller.signal });
      } catch (cause) {
        release();
        if (options.signal?.aborted) throw new APIUserAbortError();
        const error = timedOut ? new APIConnectionTimeoutError() : new APIConnectionError({ cause });
        if (!canRetry) throw error;
        await this.#wait(backoffMs(retriesDone), options.signal);
        continue;
      }

      if (response.ok) {
        return {
          response,
          requestId: response.headers.get('x-request-id'),
          controller,
          release,
          clearTimeout: () => clearTimeout(timer),
          bodyError: (cause) => {
            if (options.signal?.aborted) return new APIUserAbortError();
            if (timedOut) return new APIConnectionTimeoutError();
            if (cause instanceof SyntaxError) return new AiThreadsError(`The response body is not valid JSON: ${cause.message}`, { cause });
            return new APIConnectionError({ message: 'The connection broke while reading the response.', cause });
          },
        };
      }

      const delay = canRetry && shouldRetry(response) ? retryDelayMs(response.headers, retriesDone) : null;
      if (delay !== null) {
        await response.body?.cancel().catch(() => {});
        release();
        await this.#wait(delay, options.signal);
        continue;
      }
      try {
        throw APIError.generate(response.status, await errorBody(response), response.headers);
      } finally {
        release();
      }
    }
  }

  async #wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, signal);
    } catch {
      throw new APIUserAbortError();
    }
  }
}

