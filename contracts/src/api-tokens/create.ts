import { z } from 'zod';
import { defineOperation, PERMISSIONS } from '../operation.js';
import { storable } from '../text.js';
import { PermissionName } from '../users.js';
import { ApiToken } from './api-token.js';

export const createApiToken = defineOperation({
  name: 'apiTokens.create',
  method: 'POST',
  path: '/api-tokens',
  summary: 'Create a personal API token',
  description:
    "The secret is in `token`, shown this once. Its permissions must be a subset of the caller's; " +
    'a token cannot create tokens with more than it holds, nor tokens that outlive it: a token with an expiry ' +
    'may only create tokens that expire no later than itself. Needs `api_tokens.manage` (sessions always hold it).',
  tags: ['API tokens'],
  auth: 'required',
  permission: 'api_tokens.manage',
  rateLimit: 'requests',
  successStatus: 201,
  input: z.object({
    name: storable(z.string().trim().min(1).max(100)).meta({ pattern: '\\S', example: 'CI deploys' }),
    // Any string parses, so that an unknown one is refused by name (422 on `permissions.N`); the
    // document states the names that are accepted.
    permissions: z
      .array(z.string().max(100).meta({ override: { type: 'string', enum: [...PERMISSIONS] } } as Record<string, unknown>))
      .min(1)
      .max(20)
      .meta({ example: ['ai_threads.view', 'ai_thread_messages.view'] }),
    expires_at: z.iso.datetime({ offset: true }).optional().meta({
      description:
        'Expiry (ISO-8601), in the future. Optional for a session; required, and no later than its own expiry, ' +
        'when the caller is a token that expires.',
    }),
  }),
  output: z.object({ api_token: ApiToken, token: z.string() }).meta({ id: 'CreatedApiToken' }),
  errors: [400, 401, 403, 413, 422, 429],
});
