// The user resource, as every operation returns it.
import { z } from 'zod';
import { PERMISSIONS } from './operation.js';
import { Timestamp } from './common.js';
import { Id } from './fields.js';

export const PermissionName = z.enum(PERMISSIONS);

export const User = z
  .object({
    id: Id,
    email: z.string(),
    name: z.string().nullable(),
    role: z.string(),
    created_at: Timestamp,
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

export const Email = z.email({ error: 'must be a valid email address' }).max(254).toLowerCase();
export const Password = z.string().min(8).max(256);
