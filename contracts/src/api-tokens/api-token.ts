// The personal API token resource (never carries the secret).
import { z } from 'zod';
import { Timestamp } from '../common.js';
import { Id } from '../fields.js';
import { PermissionName } from '../users.js';

export const ApiToken = z
  .object({
    id: Id,
    name: z.string(),
    permissions: z.array(PermissionName),
    token_prefix: z.string().meta({ description: 'The first characters of the token, to recognise it.' }),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable(),
  })
  .meta({ id: 'ApiToken' });
export type ApiToken = z.infer<typeof ApiToken>;
