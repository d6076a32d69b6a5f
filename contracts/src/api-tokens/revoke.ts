import { z } from 'zod';
import { IdParam } from '../common.js';
import { defineOperation } from '../operation.js';

export const revokeApiToken = defineOperation({
  name: 'apiTokens.revoke',
  method: 'DELETE',
  path: '/api-tokens/{id}',
  summary: 'Revoke one of your API tokens',
  description:
    'The token stops working at once. A token may always revoke itself; revoking another token needs ' +
    '`api_tokens.manage` (sessions always hold it).',
  tags: ['API tokens'],
  auth: 'required',
  rateLimit: 'requests',
  successStatus: 204,
  input: z.object({ id: IdParam }),
  output: z.void(),
  errors: [401, 403, 404, 422, 429],
});
