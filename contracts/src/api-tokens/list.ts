import { z } from 'zod';
import { IdParam, Page, PageQuery } from '../common.js';
import { defineOperation } from '../operation.js';
import { ApiToken } from './api-token.js';

export const listApiTokens = defineOperation({
  name: 'apiTokens.list',
  method: 'GET',
  path: '/api-tokens',
  summary: 'List your API tokens',
  description: 'Active tokens (not revoked), newest first. Secrets are never shown again.',
  tags: ['API tokens'],
  auth: 'required',
  permission: 'api_tokens.manage',
  rateLimit: 'requests',
  successStatus: 200,
  input: PageQuery,
  output: Page(ApiToken).meta({ id: 'ApiTokenPage' }),
  errors: [401, 403, 422, 429],
});

export const getApiToken = defineOperation({
  name: 'apiTokens.get',
  method: 'GET',
  path: '/api-tokens/{id}',
  summary: 'Get one of your API tokens',
  description: 'The token with this id, without its secret. Revoked tokens and the tokens of others are 404.',
  tags: ['API tokens'],
  auth: 'required',
  permission: 'api_tokens.manage',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ id: IdParam }),
  output: ApiToken,
  errors: [401, 403, 404, 422, 429],
});
