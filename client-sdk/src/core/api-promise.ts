// APIPromise: what every non-streaming method returns. Await it for the parsed body, or call
// `.withResponse()` for the raw Response too (headers such as `Idempotent-Replayed`).

/** A response that arrived with a success status, before its body is read. */
export interface APIResponseProps {
  response: Response;
  requestId: string | null;
  /** Called once the body is read: stops the request's timeout and signal plumbing. */
  release(): void;
  /** The SDK error for a failure while reading the body (abort, timeout, broken connection). */
  bodyError(cause: unknown): Error;
}

/** Reads a body with `read`, then releases the request; read failures become SDK errors. */
export async function readBody<T>(props: APIResponseProps, read: (response: Response) => Promise<T>): Promise<T> {
  try {
    return await read(props.response);
  } catch (cause) {
    throw props.bodyError(cause);
  } finally {
    props.release();
  }
}

export class APIPromise<T> extends Promise<T> {
  #parsed: Promise<T> | undefined;
  readonly #responsePromise: Promise<APIResponseProps>;
  readonly #parse: (props: APIResponseProps) => Promise<T>;

  constructor(responsePromise: Promise<APIResponseProps>, parse: (props: APIResponseProps) => Promise<T>) {
    super((resolve) => resolve(null as T));
    this.#responsePromise = responsePromise;
    this.#parse = parse;
    // The request starts at once; a caller that never looks at it must not crash the process.
    responsePromise.catch(() => {});
  }

  // `then` on this promise returns plain promises, never another APIPromise.
  static override get [Symbol.species]() {
    return Promise;
  }

  /** The raw Response, body unread (for headers, or to read it yourself). */
  asResponse(): Promise<Response> {
    return this.#responsePromise.then((props) => {
      props.release();
      return props.response;
    });
  }

  /** The parsed body with the raw Response and its request id. */
  async withResponse(): Promise<{ data: T; response: Response; requestId: string | null }> {
    const [data, props] = await Promise.all([this.parsed(), this.#responsePromise]);
    return { data, response: props.response, requestId: props.requestId };
  }

  private parsed(): Promise<T> {
    this.#parsed ??= this.#responsePromise.then((props) => this.#parse(props));
    return this.#parsed;
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.parsed().then(onfulfilled, onrejected);
  }

  override catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.parsed().catch(onrejected);
  }

  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.parsed().finally(onfinally);
  }
}
