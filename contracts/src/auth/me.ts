import { z } from 'zod';
import { Id } from '../fields.js';
import { defineOperation } from '../operation.js';
import { PermissionName, User } from '../users.js';

export const Me = z
  .object({
    user: User,
    permissions: z.array(PermissionName).meta({ description: "The caller's effective permissions (a token's are a subset of its owner's)." }),
    auth: z.object({
      type: z.enum(['session', 'api_token']),
      api_token_id: Id.nullable(),
    }),
  })
  .meta({ id: 'Me' });
export type Me = z.infer<typeof Me>;

export const getMe = defineOperation({
  name: 'me.get',
  method: 'GET',
  path: '/me',
  summary: 'The caller',
  description: 'The authenticated user, its effective permissions and how it authenticated.',
  tags: ['Auth'],
  auth: 'required',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({}),
  output: Me,
  errors: [401, 429],
});
