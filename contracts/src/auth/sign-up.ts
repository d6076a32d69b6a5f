import { z } from 'zod';
import { defineOperation } from '../operation.js';
import { storable } from '../text.js';
import { Email, Password } from '../users.js';
import { SessionResponse } from './session.js';

export const signUp = defineOperation({
  name: 'auth.signUp',
  method: 'POST',
  path: '/auth/sign-up',
  summary: 'Create an account',
  description: 'Creates a user with the default role and starts a session (token in the body and a cookie).',
  tags: ['Auth'],
  auth: 'none',
  rateLimit: 'requests',
  successStatus: 201,
  input: z.object({
    email: Email,
    password: Password,
    name: storable(z.string().trim().min(1).max(100)).optional(),
  }),
  output: SessionResponse,
  errors: [400, 413, 422, 429],
});
