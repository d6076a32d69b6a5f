// The message operations: the seed's create, list and get. One contract each.
import { z } from 'zod';
import { IdParam, Page, PageFields, pageRules } from '../common.js';
import { defineOperation } from '../operation.js';
import { ExpectedVersion } from '../state/state.js';
import { State, Text } from '../text.js';
import { Message, MessagePair } from './message.js';

export const MessageInput = z.object({
  threadId: IdParam,
  content: Text({ min: 1, max: 5000, notBlank: true }).meta({
    description: 'Content of the message (max 5000 characters, counted as Unicode code points).',
    example: 'Hello!',
  }),
  state: State.optional().meta({
    description: 'Optional state data as JSON (at most 64 KiB serialized and 32 levels deep by default).',
    example: { form: { field: 'value' } },
  }),
  expected_state_version: ExpectedVersion.optional().meta({
    description:
      'Optional precondition: the state version you last saw (REST also takes `If-Match: "<version>"`). Stale: 412, ' +
      'nothing stored, no AI call.',
  }),
});

export const createMessage = defineOperation({
  name: 'messages.create',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages',
  summary: 'Create a message',
  description:
    'Creates a new message in one of your AI threads and returns it with the AI\'s answer. ' +
    'In `responseMessage.updated_state` you find the state you sent, as the AI changed it. ' +
    'Send an `Idempotency-Key` header to retry safely.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.create',
  rateLimit: 'messages',
  idempotent: true,
  successStatus: 201,
  input: MessageInput,
  output: MessagePair,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429, 502, 504],
});

export const listMessages = defineOperation({
  name: 'messages.list',
  method: 'GET',
  path: '/ai/threads/{thread-id}/messages',
  summary: 'List the messages of a thread',
  description: 'Oldest first, with cursor pagination.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, ...PageFields }).superRefine(pageRules),
  output: Page(Message).meta({ id: 'MessagePage' }),
  errors: [401, 403, 404, 422, 429],
});

export const getMessage = defineOperation({
  name: 'messages.get',
  method: 'GET',
  path: '/ai/threads/{thread-id}/messages/{message-id}',
  summary: 'Get a message',
  description: 'One message of one of your AI threads.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, messageId: IdParam }),
  output: Message,
  errors: [401, 403, 404, 422, 429],
});
