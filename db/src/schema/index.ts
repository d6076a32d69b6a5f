// The database schema, one file per table. Edit a table's file, then `npm run db:generate`.
export * from './users.js';
export * from './roles.js';
export * from './sessions.js';
export * from './api-tokens.js';
export * from './threads.js';
export * from './messages.js';
export * from './state-revisions.js';
export * from './idempotency-keys.js';
