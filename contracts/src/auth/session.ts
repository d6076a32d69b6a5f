// The answer of sign-up and sign-in: the user and a session token.
import { z } from 'zod';
import { User } from '../users.js';

export const SessionResponse = z
  .object({
    user: User,
    token: z.string().meta({ description: 'Session token; send as `Authorization: Bearer <token>`. Also set as a cookie.' }),
  })
  .meta({ id: 'SessionResponse' });
export type SessionResponse = z.infer<typeof SessionResponse>;
