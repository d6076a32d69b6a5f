// The AI thread message resource (see SPEC.md), and the seed endpoint's answer.
import { z } from 'zod';
import { Timestamp } from '../common.js';
import { Count, Id } from '../fields.js';
import { JsonPatch, Proposal, StateVersion } from '../state/state.js';
import { State } from '../text.js';

export const MessageStatus = z.enum(['pending', 'completed', 'failed', 'cancelled']);

export const Usage = z
  .object({ prompt_tokens: Count, completion_tokens: Count })
  .meta({ id: 'Usage' });

export const ToolCall = z
  .object({
    id: z.string().meta({ description: "The call's id; the tool message that answers it carries it as `tool_call_id`." }),
    name: z.string().meta({ description: 'The front-end tool the model called.' }),
    arguments: z.string().meta({ description: 'Its arguments, as the JSON text the model wrote.' }),
  })
  .meta({ id: 'ToolCall' });
export type ToolCall = z.infer<typeof ToolCall>;

export const Message = z
  .object({
    id: Id,
    thread_id: Id,
    parent_id: Id.nullable().meta({ description: 'The message this one follows (its parent); null for a first message (a root).' }),
    sibling_count: Count.meta({ description: 'How many messages share its parent (itself included): the n of a "‹ i/n ›" picker.' }),
    sibling_index: Count.meta({ description: 'Its place among them, from 0, oldest first.' }),
    role: z.enum(['user', 'assistant', 'tool']).meta({
      description:
        '`user` and `assistant` as in the seed; `tool`: the result of a front-end tool call, sent by an AG-UI client ' +
        '(only threads that use front-end tools hold them).',
    }),
    content: z.string().meta({ description: 'The text; for a tool message, the tool\'s result.' }),
    tool_calls: z.array(ToolCall).nullable().meta({
      description:
        'Assistant messages: the front-end tools the model called (AG-UI); the answer ended there, and the client ' +
        'sends each result as a `tool` message. Else null.',
    }),
    tool_call_id: z.string().nullable().meta({ description: 'Tool messages: the id of the call this is the result of; else null.' }),
    state: State.nullable().meta({ description: 'User messages: the state sent with the message, or null.' }),
    updated_state: State.nullable().meta({
      description:
        'Assistant messages: the state after the AI changes; equal to the state sent when the AI changed nothing.',
    }),
    status: MessageStatus.meta({ description: '`pending` while answering, then `completed`, `failed` or `cancelled`.' }),
    model: z.string().nullable().meta({ description: 'Assistant messages: the model that answered.' }),
    usage: Usage.nullable().meta({ description: 'Assistant messages: tokens used, when the provider reports them.' }),
    latency_ms: Count.nullable().meta({ description: 'Assistant messages: time the AI took.' }),
    time_to_first_token_ms: Count.nullable().meta({ description: 'Streamed answers: time to the first text.' }),
    context_truncated: z
      .boolean()
      .meta({ description: 'Assistant messages: true when older history was left out to fit the token budget.' }),
    error: z.string().nullable().meta({ description: 'Failed or cancelled user messages: why.' }),
    state_version: StateVersion.nullable().meta({
      description: "Completed assistant messages: the thread's state version after this reply; else null.",
    }),
    state_patch: JsonPatch.nullable().meta({
      description:
        'Assistant messages: the JSON Patch from the state the AI started from to `updated_state` (`[]` when nothing ' +
        'changed); null on user messages and on answers stored before state was versioned.',
    }),
    proposal: Proposal.nullable().meta({
      description: "Review mode: the AI's proposed change, for a person to accept or reject; else null.",
    }),
    created_at: Timestamp,
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;

export const MessagePair = z
  .object({
    createdMessage: Message.meta({ description: 'Your message, as stored.' }),
    responseMessage: Message.meta({ description: "The AI's answer; `updated_state` holds the resulting state." }),
  })
  .meta({ id: 'MessagePair' });
export type MessagePair = z.infer<typeof MessagePair>;
