// The message operations: the seed's create, list and get. One contract each.
import { z } from 'zod';
import { IdParam, Page, PageFields, pageRules } from '../common.js';
import { defineOperation } from '../operation.js';
import { ExpectedVersion } from '../state/state.js';
import { State, Text } from '../text.js';
import { Message, MessagePair } from './message.js';

const MessagePage = Page(Message).meta({ id: 'MessagePage' });

/**
 * What every operation that makes the AI answer declares (create, regenerate and their streams):
 * it needs the permission to create messages, counts against the message rate limit, and honours
 * an Idempotency-Key.
 */
export const ANSWERS = {
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.create',
  rateLimit: 'messages',
  idempotent: true,
} as const;

/** A message's text: the seed's rule (1 to 5000 code points, not blank, storable), whichever route posts it. */
export const MessageContent = Text({ min: 1, max: 5000, notBlank: true });

export const MessageInput = z.object({
  threadId: IdParam,
  content: MessageContent.meta({
    description: 'Content of the message (max 5000 characters, counted as Unicode code points).',
    example: 'Hello!',
  }),
  state: State.optional().meta({
    description: 'Optional state data as JSON (at most 64 KiB serialized and 32 levels deep by default).',
    example: { form: { field: 'value' } },
  }),
  parent_id: IdParam.nullable().optional().meta({
    description:
      'Where the message goes: absent, after the head (the current branch); an assistant message id of this thread, ' +
      'after that message (to edit a message, post the new text after the edited one\'s parent); null, a new root.',
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
  ...ANSWERS,
  successStatus: 201,
  input: MessageInput,
  output: MessagePair,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429, 502, 504],
});

/**
 * `view`, piped into itself: trpc-to-openapi, on every REST request, unwraps each input field that
 * is an enum into a new `z.string()` schema (1-1.5% of a list request's CPU, profiled: zod builds
 * each schema with its methods); it leaves a pipe alone, as for `Integer` (common.ts). The same
 * values, default and document.
 */
const ListView = z.enum(['branch', 'all']);

export const listMessages = defineOperation({
  name: 'messages.list',
  method: 'GET',
  path: '/ai/threads/{thread-id}/messages',
  summary: 'List the messages of a thread',
  description:
    'The current branch, root to head, oldest first, with cursor pagination. `branch=<message id>`: the branch ending ' +
    'at that message. `view=all`: every message of the thread, by id.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z
    .object({
      threadId: IdParam,
      ...PageFields,
      branch: IdParam.optional().meta({ description: 'List the branch that ends at this message (root to it).' }),
      view: ListView.default('branch').meta({ description: '`branch` (the default) or `all`.' }).pipe(ListView),
    })
    .superRefine(pageRules)
    .superRefine((value, ctx) => {
      if (value.branch !== undefined && value.view === 'all') {
        ctx.addIssue({ code: 'custom', path: ['branch'], message: 'must not be combined with view all' });
      }
    }),
  output: MessagePage,
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

export const RegenerateInput = z.object({
  threadId: IdParam,
  messageId: IdParam,
  expected_state_version: ExpectedVersion.optional().meta({
    description: 'Optional precondition, as for creating a message (REST also takes `If-Match`).',
  }),
});

export const regenerateMessage = defineOperation({
  name: 'messages.regenerate',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/{message-id}/regenerate',
  summary: 'Regenerate an answer',
  description:
    'A new answer to the same user message, beside the old one (a sibling), which stays. `message-id` is an ' +
    'assistant message, or a user message whose answer failed. The new answer becomes the head. Answers 201 ' +
    '`{createdMessage, responseMessage}` where `createdMessage` is that existing user message. The model sees the ' +
    'branch up to and including the user message. Rules as for creating a message: busy 409, `Idempotency-Key`, ' +
    'the message rate limit and the optional precondition (412).',
  ...ANSWERS,
  successStatus: 201,
  input: RegenerateInput,
  output: MessagePair,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429, 502, 504],
});

export const listSiblings = defineOperation({
  name: 'messages.siblings',
  method: 'GET',
  path: '/ai/threads/{thread-id}/messages/{message-id}/siblings',
  summary: 'List the siblings of a message',
  description: 'The messages with the same parent (the message itself included), oldest first, with cursor pagination.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, messageId: IdParam, ...PageFields }).superRefine(pageRules),
  output: MessagePage,
  errors: [401, 403, 404, 422, 429],
});
