// The application router: one branch per domain, nested as `contracts` nests the operations.
import { apiTokensRouter } from './api-tokens/api-tokens.router.js';
import { authRouter, meRouter } from './auth/auth.router.js';
import { messagesRouter } from './messages/messages.router.js';
import { threadsRouter } from './threads/threads.router.js';
import { t } from './trpc/init.js';

export const appRouter = t.router({
  auth: authRouter,
  me: meRouter,
  apiTokens: apiTokensRouter,
  threads: threadsRouter,
  messages: messagesRouter,
});

export type AppRouter = typeof appRouter;
