import { z } from 'zod';
import { defineOperation } from '../operation.js';

export const signOut = defineOperation({
  name: 'auth.signOut',
  method: 'POST',
  path: '/auth/sign-out',
  summary: 'Sign out',
  description: 'Ends the session that made the call (if any) and clears the cookie.',
  tags: ['Auth'],
  auth: 'none',
  rateLimit: 'requests',
  successStatus: 204,
  input: z.object({}),
  output: z.void(),
  errors: [403, 429],
});
