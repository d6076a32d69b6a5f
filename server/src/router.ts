// The application router: the contracts table, implemented. Each domain exports one handler per
// contract of its group; `implement` checks that they match the table exactly.
import { contracts } from '@ai-threads/contracts';
import { apiTokensHandlers } from './api-tokens/api-tokens.router.js';
import { authHandlers, meHandlers } from './auth/auth.router.js';
import { messagesHandlers } from './messages/messages.router.js';
import { protocolsHandlers } from './protocols/protocols.router.js';
import { threadsHandlers } from './threads/threads.router.js';
import { implement } from './trpc/implement.js';

export const appRouter = implement(contracts, {
  auth: authHandlers,
  me: meHandlers,
  apiTokens: apiTokensHandlers,
  threads: threadsHandlers,
  messages: messagesHandlers,
  protocols: protocolsHandlers,
});

export type AppRouter = typeof appRouter;
