// /api-tokens: personal API tokens. The secret is in `token`, answered once, by create.
import type { APIPromise } from '../core/api-promise.js';
import type { PagePromise } from '../core/pagination.js';
import type { RequestOptions } from '../core/request-options.js';
import type { ApiToken, ApiTokenCreateParams, ApiTokenListParams, CreatedApiToken } from '../types.js';
import { APIResource, path } from './resource.js';

export class ApiTokens extends APIResource {
  /** Its permissions must be a subset of the caller's (201 `{api_token, token}`). */
  create(body: ApiTokenCreateParams, options?: RequestOptions): APIPromise<CreatedApiToken> {
    return this._client.post('/api-tokens', body, options);
  }

  /** Active tokens, newest first. */
  list(query: ApiTokenListParams = {}, options?: RequestOptions): PagePromise<ApiToken> {
    return this._client.getAPIList<ApiToken>('/api-tokens', { ...query }, options);
  }

  retrieve(tokenId: number, options?: RequestOptions): APIPromise<ApiToken> {
    return this._client.get(path`/api-tokens/${tokenId}`, undefined, options);
  }

  /** The token stops working at once (204). */
  revoke(tokenId: number, options?: RequestOptions): APIPromise<void> {
    return this._client.delete(path`/api-tokens/${tokenId}`, options);
  }
}
