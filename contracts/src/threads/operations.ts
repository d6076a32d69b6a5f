// The thread operations: create, list, get, update, delete. One contract each.
import { z } from 'zod';
import { IdParam, Page, PageFields, pageRules } from '../common.js';
import { defineOperation } from '../operation.js';
import { Metadata, State, storable, Text } from '../text.js';
import { StateReview } from '../state/state.js';
import { Thread } from './thread.js';

const Title = Text({ min: 1, max: 200, notBlank: true });
const Instructions = Text({ max: 20_000 });
const threadErrors = [401, 403, 404, 422, 429] as const;

export const createThread = defineOperation({
  name: 'threads.create',
  method: 'POST',
  path: '/ai/threads',
  summary: 'Create a thread',
  description: 'Creates one of your AI threads, optionally with instructions (a system prompt), metadata and an initial state.',
  tags: ['Threads'],
  auth: 'required',
  permission: 'ai_threads.create',
  rateLimit: 'requests',
  idempotent: true,
  successStatus: 201,
  input: z.object({
    title: Title.optional(),
    instructions: Instructions.optional(),
    metadata: Metadata.optional(),
    state: State.optional(),
    state_review: StateReview.optional(),
  }),
  output: Thread,
  errors: [400, 401, 403, 409, 413, 422, 429],
});

export const listThreads = defineOperation({
  name: 'threads.list',
  method: 'GET',
  path: '/ai/threads',
  summary: 'List your threads',
  description:
    'Newest first, with cursor pagination. Filter by one metadata pair with `metadata_key` and `metadata_value`.',
  tags: ['Threads'],
  auth: 'required',
  permission: 'ai_threads.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z
    .object({
      ...PageFields,
      metadata_key: storable(z.string().min(1).max(64)).optional(),
      metadata_value: storable(z.string().max(512)).optional(),
    })
    .superRefine(pageRules)
    .superRefine((value, ctx) => {
      if (value.metadata_value !== undefined && value.metadata_key === undefined) {
        ctx.addIssue({ code: 'custom', path: ['metadata_key'], message: 'is required when metadata value is present' });
      }
    }),
  output: Page(Thread).meta({ id: 'ThreadPage' }),
  errors: [401, 403, 422, 429],
});

export const getThread = defineOperation({
  name: 'threads.get',
  method: 'GET',
  path: '/ai/threads/{thread-id}',
  summary: 'Get a thread',
  description: 'One of your AI threads, with its latest state. The threads of others are 404.',
  tags: ['Threads'],
  auth: 'required',
  permission: 'ai_threads.view',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam }),
  output: Thread,
  errors: threadErrors,
});

export const updateThread = defineOperation({
  name: 'threads.update',
  method: 'PATCH',
  path: '/ai/threads/{thread-id}',
  summary: 'Update a thread',
  description: 'Changes the title, instructions, metadata (replaced as a whole) or `state_review`. `null` clears title or ' +
    'instructions. The state changes through PATCH .../state, messages, revert and proposals.',
  tags: ['Threads'],
  auth: 'required',
  permission: 'ai_threads.update',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({
    threadId: IdParam,
    title: Title.nullable().optional(),
    instructions: Instructions.nullable().optional(),
    metadata: Metadata.optional(),
    state_review: StateReview.optional(),
  }),
  output: Thread,
  errors: [400, 401, 403, 404, 413, 422, 429],
});

export const deleteThread = defineOperation({
  name: 'threads.delete',
  method: 'DELETE',
  path: '/ai/threads/{thread-id}',
  summary: 'Delete a thread',
  description: 'Deletes the thread and all its messages. A thread that is answering cannot be deleted (409).',
  tags: ['Threads'],
  auth: 'required',
  permission: 'ai_threads.delete',
  rateLimit: 'requests',
  successStatus: 204,
  input: z.object({ threadId: IdParam }),
  output: z.void(),
  errors: [401, 403, 404, 409, 422, 429],
});

export const setHead = defineOperation({
  name: 'threads.setHead',
  method: 'POST',
  path: '/ai/threads/{thread-id}/head',
  summary: 'Move the head to a branch',
  description:
    'The head (the current branch\'s last message, where the next message goes) becomes the newest leaf under ' +
    '`message_id`: from it, at each step, the newest child. The state is not rewound: to return to a branch ' +
    "point's state, revert to the revision of that message.",
  tags: ['Threads'],
  auth: 'required',
  permission: 'ai_threads.update',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, message_id: IdParam.meta({ description: 'A message of this thread.' }) }),
  output: Thread,
  errors: [400, 401, 403, 404, 413, 422, 429],
});
