// The AI SDK's UI message stream (ai-sdk.dev, stream protocol v1) over a thread: what the `ai`
// package's DefaultChatTransport (useChat) sends, and the parts this service answers with. The
// thread holds the conversation: only the last message of `messages` is read.
import { z } from 'zod';
import { IdParam } from '../common.js';
import { Id, Count } from '../fields.js';
import { ANSWERS, MessageContent } from '../messages/operations.js';
import { defineOperation } from '../operation.js';
import { ExpectedVersion, JsonPatch } from '../state/state.js';
import { State, Text } from '../text.js';

/** How many messages a request may carry (the client sends its whole history; the body limit applies too). */
export const UI_STREAM_MAX_MESSAGES = 1000;
/** How many parts one message may have. */
const MAX_PARTS = 1000;
/** The text posted: the last message's text parts, joined; the seed's rule for `content`. */

// Only what is read is kept: a part's `type` and `text`, a message's `role` and `parts`; the other
// fields the AI SDK sends (metadata, a file's url, a tool's input) are accepted and dropped.
const UiMessagePart = z
  .object({ type: z.string().max(200), text: z.string().optional() })
  .meta({ description: 'A part of a message, as the AI SDK writes it: `{"type": "text", "text": "..."}` for text; other fields are ignored.' });

const UiMessage = z
  .object({
    id: z.string().max(256).optional(),
    role: z.enum(['system', 'user', 'assistant']),
    parts: z.array(UiMessagePart).max(MAX_PARTS),
  })
  .meta({ description: 'A UIMessage of the AI SDK. Only the last one is read; the rest is history the thread already holds.' });

type UiMessage = z.infer<typeof UiMessage>;

/** The text a user message of text parts says, or why it cannot be posted. */
export function uiMessageText(message: UiMessage | undefined): { text: string } | { problem: string } {
  if (message?.role !== 'user') return { problem: 'must end with a user message' };
  const texts: string[] = [];
  for (const part of message.parts) {
    if (part.type !== 'text' || part.text === undefined) {
      return { problem: 'must end with a user message of text parts only (files and other parts cannot be posted here)' };
    }
    texts.push(part.text);
  }
  const text = texts.join('');
  const checked = MessageContent.safeParse(text);
  if (!checked.success) {
    const why = checked.error.issues[0]?.message ?? 'is invalid';
    return { problem: `must end with a user message whose text ${why.replace(/^is required$/, 'is not empty')}` };
  }
  return { text };
}

/** A stored message id as the AI SDK carries ids: a decimal string. */
const STORED_ID = /^[1-9][0-9]{0,15}$/;

export const UiStreamInput = z
  .object({
    threadId: IdParam,
    id: z.string().max(256).optional().meta({ description: "The chat's id on the client (useChat's `id`); the path names the thread." }),
    messages: z.array(UiMessage).min(1).max(UI_STREAM_MAX_MESSAGES).meta({
      description:
        "The client's messages. The last one, a user message of text parts, is posted (submit); the thread's stored " +
        'history is what the model sees, never what the client sends.',
    }),
    trigger: z.enum(['submit-message', 'regenerate-message']).default('submit-message').meta({
      description: '`submit-message` posts the last message; `regenerate-message` answers again the message `messageId` answered.',
    }),
    messageId: z.string().max(256).optional().meta({
      description:
        '`regenerate-message`: the stored id, as a string, of the assistant message to answer again (the finish part\'s ' +
        '`messageMetadata.response_message_id`). Not accepted with `submit-message` (editing is `parent_id` on .../messages).',
    }),
    state: State.optional().meta({ description: 'Optional state, as for creating a message (the app adds it to the body).' }),
    expected_state_version: ExpectedVersion.optional().meta({
      description: 'Optional precondition, as for creating a message (REST also takes `If-Match`).',
    }),
    /** A tRPC client reconnecting sends it (REST: `Last-Event-ID`); refused, so a reconnect never posts twice. */
    lastEventId: z.unknown().optional(),
  })
  .superRefine((input, ctx) => {
    if (input.lastEventId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['lastEventId'], message: 'must be absent: this stream cannot be resumed (.../messages/stream can)' });
      return;
    }
    if (input.trigger === 'regenerate-message') {
      if (input.messageId === undefined) ctx.addIssue({ code: 'custom', path: ['messageId'], message: 'is required to regenerate' });
      else if (!STORED_ID.test(input.messageId) || Number(input.messageId) > Number.MAX_SAFE_INTEGER) {
        ctx.addIssue({ code: 'custom', path: ['messageId'], message: 'must be the id of an assistant message of this thread' });
      }
      return;
    }
    if (input.messageId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['messageId'], message: 'must be absent: editing a message is not supported on this route' });
    }
    if (input.messages.length === 0) return;
    const said = uiMessageText(input.messages.at(-1));
    if ('problem' in said) ctx.addIssue({ code: 'custom', path: ['messages'], message: said.problem });
  });

const TextPartId = z.string().meta({ description: 'The text part: `text-<your message id>`.' });

/** What the finish part's messageMetadata carries: the stored ids and the state version after the answer. */
export const UiStreamMetadata = z
  .object({
    created_message_id: Id.meta({ description: 'Your message, as stored.' }),
    response_message_id: Id.meta({ description: 'The answer, as stored (what `regenerate-message` takes as `messageId`).' }),
    state_version: Count.nullable().meta({ description: "The thread's state version after the answer." }),
  })
  .meta({ id: 'UiStreamMetadata' });

/** Review mode: the AI's change so far, for a person to accept or reject. */
export const UiStreamProposal = z
  .object({
    message_id: Id.nullable().meta({ description: 'The answer that holds the proposal (accept or reject it there); null until stored.' }),
    patch: JsonPatch.meta({ description: 'The JSON Patch from the state the AI started from to `proposed_state`.' }),
    proposed_state: State,
  })
  .meta({ id: 'UiStreamProposal' });

const part = <T extends z.core.$ZodLooseShape>(id: string, description: string, shape: T) =>
  z.object(shape).meta({ id, description });

export const UiStreamPart = z
  .discriminatedUnion('type', [
    part('UiStreamStart', '`start`: the answer began (your message is stored).', { type: z.literal('start') }),
    part('UiStreamTextStart', '`text-start`: the answer text begins.', { type: z.literal('text-start'), id: TextPartId }),
    part('UiStreamTextDelta', '`text-delta`: the next piece of the answer text.', {
      type: z.literal('text-delta'),
      id: TextPartId,
      delta: z.string(),
    }),
    part('UiStreamTextEnd', '`text-end`: the answer text is complete.', { type: z.literal('text-end'), id: TextPartId }),
    part(
      'UiStreamDataState',
      "`data-state`: the thread's whole state after a change (the AI's, or the stored one at the end when it differs " +
        'from what you sent); `id` is always `state`, so the message keeps only the latest.',
      { type: z.literal('data-state'), id: z.literal('state'), data: State.nullable() },
    ),
    part(
      'UiStreamDataProposal',
      "`data-proposal` (review mode, instead of `data-state`): the AI's proposed change so far, then as stored, with the " +
        "answer's id; `id` is always `proposal`.",
      { type: z.literal('data-proposal'), id: z.literal('proposal'), data: UiStreamProposal },
    ),
    part('UiStreamFinish', '`finish`: the answer is stored; `messageMetadata` names it.', {
      type: z.literal('finish'),
      finishReason: z.literal('stop'),
      messageMetadata: UiStreamMetadata,
    }),
    part('UiStreamError', '`error`: the answer failed after the stream began; your message is kept as `failed`.', {
      type: z.literal('error'),
      errorText: z.string(),
    }),
  ])
  .meta({ id: 'UiStreamPart', description: 'One part of the UI message stream, as its `data:` line holds it.' });
export type UiStreamPart = z.infer<typeof UiStreamPart>;

export const uiStream = defineOperation({
  name: 'protocols.uiStream',
  method: 'POST',
  path: '/ai/threads/{thread-id}/ui-stream',
  summary: "Answer the AI SDK's useChat",
  description:
    "The AI SDK's UI message stream (protocol v1, header `x-vercel-ai-ui-message-stream: v1`) for `useChat` with " +
    '`DefaultChatTransport`: it posts the last message of `messages` (a user message of text parts) to the thread, ' +
    'as `.../messages/stream` does, and answers `start`, `text-start`/`text-delta`/`text-end`, a `data-state` part ' +
    'with the whole state after each change (`data-proposal` in review mode), `finish` (the stored ids in ' +
    '`messageMetadata`), then `data: [DONE]`. The thread is the history: messages the client sends before the ' +
    'last are not read. `trigger: "regenerate-message"` with `messageId` answers a stored message again. Refusals are ' +
    'JSON errors before any part; a failure after the start is an `error` part.',
  ...ANSWERS,
  tags: ['Protocols'],
  successStatus: 200,
  transport: 'sse',
  framing: 'ui-message-stream',
  input: UiStreamInput,
  output: UiStreamPart,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429],
});
