// Cursor pages (`{data, has_more, next_cursor}`, `limit` / `after` / `before`). A page is
// async-iterable over every item of every page after it (with `before`, of every page before it);
// `list()` returns a PagePromise, which can be awaited for the first page or iterated directly:
//   for await (const message of client.messages.list(threadId)) { ... }
import { APIPromise, readBody, type APIResponseProps } from './api-promise.js';
import { AiThreadsError } from './error.js';
import type { RequestOptions } from './request-options.js';

/** The API's page body. */
export interface PageBody<Item> {
  data: Item[];
  has_more: boolean;
  next_cursor: number | null;
}

/** What is needed to ask for a page again with another cursor. */
export interface PageRequest {
  path: string;
  query: Record<string, unknown>;
  options: RequestOptions;
}

/** The part of the client a page uses to fetch the next one. */
export interface PageFetcher {
  getPage<Item>(request: PageRequest): PagePromise<Item>;
}

/** An item's cursor: its `id`, or for a list keyed by version (state revisions) its `version`. */
function cursorOf(item: unknown): number | null {
  const { id, version } = (item ?? {}) as { id?: unknown; version?: unknown };
  if (typeof id === 'number') return id;
  return typeof version === 'number' ? version : null;
}

export class CursorPage<Item> implements AsyncIterable<Item> {
  /** The items of this page, in list order (threads newest first, messages oldest first). */
  readonly data: Item[];
  /** The API's `has_more`: more items follow in the direction asked for. */
  readonly hasMore: boolean;
  /** The API's `next_cursor`: pass it as `after` for the next page; null on the last page. */
  readonly nextCursor: number | null;
  /** The raw Response of this page. */
  readonly response: Response;
  readonly #fetcher: PageFetcher;
  readonly #request: PageRequest;

  constructor(fetcher: PageFetcher, request: PageRequest, body: PageBody<Item>, response: Response) {
    this.#fetcher = fetcher;
    this.#request = request;
    this.data = Array.isArray(body?.data) ? body.data : [];
    this.hasMore = body?.has_more === true;
    this.nextCursor = typeof body?.next_cursor === 'number' ? body.next_cursor : null;
    this.response = response;
  }

  /** Asked with `before`: the pages walk backwards from the cursor. */
  get #backwards(): boolean {
    return this.#request.query['before'] !== undefined && this.#request.query['before'] !== null;
  }

  hasNextPage(): boolean {
    if (this.data.length === 0) return false;
    return this.#backwards ? this.hasMore : this.nextCursor !== null;
  }

  /**
   * The query of the next page, or null on the last: `after: next_cursor` (list order), or with
   * `before`, `before: <first cursor of this page>` (the page before this one).
   */
  nextPageQuery(): Record<string, unknown> | null {
    if (!this.hasNextPage()) return null;
    const { before: _before, after: _after, ...rest } = this.#request.query;
    if (!this.#backwards) return { ...rest, after: this.nextCursor };
    const first = cursorOf(this.data[0]);
    return first === null ? null : { ...rest, before: first };
  }

  getNextPage(): PagePromise<Item> {
    const query = this.nextPageQuery();
    if (!query) {
      throw new AiThreadsError('No next page: check `hasNextPage()` before calling `getNextPage()`.');
    }
    return this.#fetcher.getPage<Item>({ ...this.#request, query });
  }

  /** This page, then every following page. */
  async *iterPages(): AsyncGenerator<CursorPage<Item>> {
    let page: CursorPage<Item> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/** A first page on its way: await it for the page, or `for await` over every item. */
export class PagePromise<Item> extends APIPromise<CursorPage<Item>> implements AsyncIterable<Item> {
  constructor(fetcher: PageFetcher, request: PageRequest, responsePromise: Promise<APIResponseProps>) {
    super(responsePromise, async (props) => {
      const body = await readBody(props, (response) => response.json() as Promise<PageBody<Item>>);
      return new CursorPage<Item>(fetcher, request, body, props.response);
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    const page = await this;
    yield* page;
  }
}
