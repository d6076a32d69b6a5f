// Streaming the seed endpoint's answer (server-sent events), and cancelling an answer.
import { z } from 'zod';
import { IdParam } from '../common.js';
import { defineOperation } from '../operation.js';
import { JsonPatch } from '../state/state.js';
import { Message, MessagePair } from './message.js';
import { ANSWERS, MessageInput, RegenerateInput } from './operations.js';

/** A stream's resume point: the `Last-Event-ID` header on REST, this field on tRPC. */
const LastEventId = z.string().max(64).optional().meta({ description: 'Resume after this event id (the `Last-Event-ID` header on REST).' });

const ErrorEventData = z.object({
  message: z.string(),
  status: z.number().int().min(400).max(599).meta({ description: 'The HTTP status the same failure has as a JSON answer.' }),
});

/** An event as the tRPC subscription yields it: its name and its data. */
export const StreamEvent = z
  .discriminatedUnion('event', [
    z.object({ event: z.literal('message.created'), data: Message }),
    z.object({ event: z.literal('response.delta'), data: z.object({ delta: z.string() }) }),
    z.object({ event: z.literal('state.delta'), data: z.object({ patch: JsonPatch, proposed: z.boolean() }) }),
    z.object({ event: z.literal('response.completed'), data: MessagePair }),
    z.object({ event: z.literal('error'), data: ErrorEventData }),
  ])
  .meta({ id: 'StreamEvent' });
export type StreamEvent = z.infer<typeof StreamEvent>;
export type StreamEventName = StreamEvent['event'];

/**
 * What the `data:` line of each server-sent event holds: the event's data, with the event's name
 * in `type`, so that a client that reads only data lines (or a schema with a discriminator) knows
 * each one. One schema per event.
 */
export const StreamMessageCreated = Message.extend({ type: z.literal('message.created') }).meta({
  id: 'StreamMessageCreated',
  description: '`message.created`: your message, as stored.',
});
export const StreamResponseDelta = z
  .object({ type: z.literal('response.delta'), delta: z.string().meta({ description: 'The next piece of the answer text.' }) })
  .meta({ id: 'StreamResponseDelta', description: '`response.delta`: text of the answer as it arrives.' });
export const StreamStateDelta = z
  .object({
    type: z.literal('state.delta'),
    patch: JsonPatch.meta({ description: "One update_state call's change, relative to the state before it." }),
    proposed: z.boolean().meta({ description: 'true in review mode: the change is proposed, not applied.' }),
  })
  .meta({
    id: 'StreamStateDelta',
    description:
      '`state.delta`: a change the AI made to the state while answering; applied in order to the state it started ' +
      'from, the patches give `updated_state` (or, in review mode, the proposal\'s `proposed_state`).',
  });
export const StreamResponseCompleted = MessagePair.extend({ type: z.literal('response.completed') }).meta({
  id: 'StreamResponseCompleted',
  description: '`response.completed`: both messages as stored, as the non-streamed endpoint answers them.',
});
export const StreamError = ErrorEventData.extend({ type: z.literal('error') }).meta({
  id: 'StreamError',
  description: '`error`: the answer failed after the stream began; the stream ends.',
});
export const StreamEventData = z
  .discriminatedUnion('type', [StreamMessageCreated, StreamResponseDelta, StreamStateDelta, StreamResponseCompleted, StreamError])
  .meta({ id: 'StreamEventData', description: "One event's data, as its `data:` line holds it; `type` is the event's name." });
export type StreamEventData = z.infer<typeof StreamEventData>;

/** The `data:` line's value of an event: its data, named by `type`. */
export function streamEventData(event: StreamEvent): StreamEventData {
  return { type: event.event, ...event.data } as StreamEventData;
}

export const streamMessage = defineOperation({
  name: 'messages.stream',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/stream',
  summary: 'Create a message and stream the answer',
  description:
    'The seed endpoint, answered as server-sent events: `message.created` (your message, stored), ' +
    '`response.delta` (`{"delta": "..."}`, the text as it arrives), `state.delta` (`{"patch", "proposed"}`, each ' +
    'change the AI makes to the state), then `response.completed` ' +
    '(`{"createdMessage", "responseMessage"}`) or `error` (`{"message", "status"}`). Every event has an id; ' +
    'reconnect with the same request and a `Last-Event-ID` header to get what you missed. A disconnect does ' +
    'not stop the answer: it is stored. Refusals before the first event are ordinary JSON errors.',
  ...ANSWERS,
  successStatus: 200,
  transport: 'sse',
  input: MessageInput.extend({ lastEventId: LastEventId }),
  output: StreamEvent,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429],
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

export const streamRegenerate = defineOperation({
  name: 'messages.regenerateStream',
  method: 'POST',
  path: '/ai/threads/{thread-id}/messages/{message-id}/regenerate/stream',
  summary: 'Regenerate an answer and stream it',
  description:
    'The regenerate endpoint, answered as server-sent events like `.../messages/stream`: `message.created` (the ' +
    'existing user message), `response.delta`, `state.delta`, then `response.completed` or `error`. Resume with ' +
    '`Last-Event-ID`; a disconnect does not stop the answer.',
  ...ANSWERS,
  successStatus: 200,
  transport: 'sse',
  input: RegenerateInput.extend({ lastEventId: LastEventId }),
  output: StreamEvent,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429],
});
