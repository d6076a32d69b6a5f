// The `fetch` the OpenAI SDK calls the model server with: node:http on kept-alive connections instead
// of Node's built-in fetch (undici's WHATWG fetch: a Request copy, its header lists, web streams and a
// tee for every call). The SDK's own call through the built-in fetch cost 470 µs of CPU, through this
// one 245 µs (measured: 20,000 calls at 16 at a time to test/bench/fake-openai.mjs), about a tenth of
// what the service spends on a message. The SDK sees what fetch gives it: a WHATWG Response (status,
// headers, the body), failures as fetch's (`TypeError: fetch failed` with the cause, the signal's
// reason on an abort). A JSON answer is read whole before the Response is handed over, so that the
// SDK's timeout covers its body too; an event stream (`text/event-stream`) is handed over at once
// and read as it comes. A body that is not text or bytes (a form, a stream: file uploads, which this
// service never sends) goes through the built-in fetch.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

/** The request's headers as node:http takes them (a Headers object, pairs or a record). */
function headersOf(given: FetchInit['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (!given) return out;
  const pairs: Iterable<[string, string]> =
    given instanceof Headers || Array.isArray(given) ? (given as Iterable<[string, string]>) : Object.entries(given);
  for (const [name, value] of pairs) out[name.toLowerCase()] = value;
  return out;
}

/** The answer's headers as a Headers object (repeated ones appended, as fetch gives them). */
function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** The body as it was meant to be read: decompressed when the server encoded it (fetch does too). */
function decodedBody(res: IncomingMessage): Readable {
  const encoding = res.headers['content-encoding']?.trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return res;
  res.on('error', (error) => decoder.destroy(error));
  return res.pipe(decoder);
}

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

/** fetch's network failure: a TypeError whose cause is what went wrong. */
const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export function modelFetch(input: string | URL | Request, init: FetchInit = {}): Promise<Response> {
  const body = init.body;
  if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) {
    return fetch(input, init);
  }
  const url = typeof input === 'string' ? new URL(input) : input;
  const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (!request) return Promise.reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    /** The event stream being read, once handed over: an abort fails its reading with the reason. */
    let streaming: Readable | undefined;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    };
    /** A failure of the connection or the body: the abort's reason when the signal caused it. */
    const failed = (error: unknown) => fail(signal?.aborted ? abortReason(signal) : fetchFailed(error));
    const req = request(url, {
      method: (init.method ?? 'GET').toUpperCase(),
      headers: headersOf(init.headers),
      agent: agents[url.protocol as keyof typeof agents],
    });
    function onAbort() {
      const reason = abortReason(signal!);
      // Before the answer: the call fails with the reason. After it: its body stream fails with it.
      fail(reason);
      const error = reason instanceof Error ? reason : new DOMException(String(reason), 'AbortError');
      streaming?.destroy(error);
      req.destroy(error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', failed);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const answer = { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res) };
      // The abort listener goes with the answer, except an event stream's: it stays until the stream is done.
      const respond = (response: Response) => {
        if (settled) return;
        settled = true;
        if (!streaming) signal?.removeEventListener('abort', onAbort);
        Object.defineProperty(response, 'url', { value: url.href });
        resolve(response);
      };
      if (NULL_BODY_STATUS.has(status) || req.method === 'HEAD') {
        res.resume();
        return respond(new Response(null, answer));
      }
      const decoded = decodedBody(res);
      if (res.headers['content-type']?.toLowerCase().startsWith('text/event-stream')) {
        // Read as it comes.
        streaming = decoded;
        decoded.on('close', () => signal?.removeEventListener('abort', onAbort));
        return respond(new Response(Readable.toWeb(decoded) as ReadableStream<Uint8Array>, answer));
      }
      const chunks: Buffer[] = [];
      decoded.on('data', (chunk: Buffer) => chunks.push(chunk));
      decoded.on('error', failed);
      decoded.on('end', () =>
        respond(new Response((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) as Uint8Array<ArrayBuffer>, answer)),
      );
    });
    req.end(body ?? undefined);
  });
}
