// Streaming the seed endpoint's answer (server-sent events), and cancelling an answer.
import { z } from 'zod';
import { IdParam } from '../common.js';
import { defineOperation } from '../operation.js';
import { Message, MessagePair } from './message.js';
import { MessageInput } from './operations.js';

export const StreamEvent = z
  .discriminatedUnion('event', [
    z.object({ event: z.literal('message.created'), data: Message }),
    z.object({ event: z.literal('response.delta'), data: z.object({ delta: z.string() }) }),
    z.object({ event: z.literal('response.completed'), data: MessagePair }),
    z.object({ event: z.literal('error'), data: z.object({ message: z.string(), status: z.number().int() }) }),
  ])
  .meta({ id: 'StreamEvent' });
export type StreamEvent = z.infer<typeof StreamEvent>;
export type StreamEventName = StreamEvent['event'];

export const streamMessage = defineOperation({
  name: 'messages.stream',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/stream',
  summary: 'Create a message and stream the answer',
  description:
    'The seed endpoint, answered as server-sent events: `message.created` (your message, stored), ' +
    '`response.delta` (`{"delta": "..."}`, the text as it arrives), then `response.completed` ' +
    '(`{"createdMessage", "responseMessage"}`) or `error` (`{"message", "status"}`). Every event has an id; ' +
    'reconnect with the same request and a `Last-Event-ID` header to get what you missed. A disconnect does ' +
    'not stop the answer: it is stored. Refusals before the first event are ordinary JSON errors.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.create',
  rateLimit: 'messages',
  successStatus: 200,
  idempotent: true,
  transport: 'sse',
  input: MessageInput.extend({
    lastEventId: z.string().max(64).optional().meta({ description: 'Resume after this event id (the `Last-Event-ID` header on REST).' }),
  }),
  output: StreamEvent,
  errors: [400, 401, 403, 404, 409, 413, 422, 429],
});

export const CancelResult = z
  .object({
    createdMessage: Message.meta({ description: 'Your message, now `cancelled`.' }),
    responseMessage: Message.nullable().meta({ description: 'The answer so far, `cancelled`; null when none was stored.' }),
  })
  .meta({ id: 'CancelResult' });

export const cancelMessage = defineOperation({
  name: 'messages.cancel',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/{message-id}/cancel',
  summary: 'Cancel the answer to a message',
  description:
    'Stops the answer to one of your messages while it is in progress. The text produced so far is kept as an ' +
    'assistant message with status `cancelled`, your message becomes `cancelled`, and the thread state is left as ' +
    'it was. 409 when the message is not being answered.',
  tags: ['Messages'],
  auth: 'required',
  permission: 'ai_thread_messages.create',
  rateLimit: 'requests',
  successStatus: 200,
  input: z.object({ threadId: IdParam, messageId: IdParam }),
  output: CancelResult,
  errors: [401, 403, 404, 409, 422, 429],
});
