// The base of every resource class (src/resources/, generated): the client it calls through, and
// path building with encoded ids.
import type { AiThreads } from '../client.js';

export abstract class APIResource {
  protected readonly _client: AiThreads;

  constructor(client: AiThreads) {
    this._client = client;
  }
}

/** A path with each interpolated value URL-encoded: path`/ai/threads/${id}`. */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce((out, part, i) => out + part + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}
