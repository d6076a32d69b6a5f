// GET /me: the caller, its effective permissions and how it authenticated.
import type { APIPromise } from '../core/api-promise.js';
import type { RequestOptions } from '../core/request-options.js';
import type { Me } from '../types.js';
import { APIResource } from './resource.js';

export class MeResource extends APIResource {
  retrieve(options?: RequestOptions): APIPromise<Me> {
    return this._client.get('/me', undefined, options);
  }
}
