import { z } from 'zod';
import { defineOperation } from '../operation.js';
import { storable } from '../text.js';
import { SessionResponse } from './session.js';

export const signIn = defineOperation({
  name: 'auth.signIn',
  method: 'POST',
  path: '/auth/sign-in',
  summary: 'Sign in',
  description: 'Checks the password and starts a session. Throttled per IP and per email.',
  tags: ['Auth'],
  auth: 'none',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({
    email: storable(z.string().max(254).toLowerCase()),
    password: z.string().max(256),
  }),
  output: SessionResponse,
  errors: [400, 413, 422, 429],
});
