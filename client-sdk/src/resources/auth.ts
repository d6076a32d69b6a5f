// POST /auth/sign-up, /auth/sign-in and /auth/sign-out. The token they answer with works as the
// client's apiKey: `client.withOptions({ apiKey: session.token })`.
import type { APIPromise } from '../core/api-promise.js';
import type { RequestOptions } from '../core/request-options.js';
import type { SessionResponse, SignInParams, SignUpParams } from '../types.js';
import { APIResource } from './resource.js';

export class Auth extends APIResource {
  /** Creates an account and starts a session (201). */
  signUp(body: SignUpParams, options?: RequestOptions): APIPromise<SessionResponse> {
    return this._client.post('/auth/sign-up', body, options);
  }

  /** Checks the password and starts a session. */
  signIn(body: SignInParams, options?: RequestOptions): APIPromise<SessionResponse> {
    return this._client.post('/auth/sign-in', body, options);
  }

  /** Ends the session the client authenticates with (204). */
  signOut(options?: RequestOptions): APIPromise<void> {
    return this._client.post('/auth/sign-out', undefined, options);
  }
}
