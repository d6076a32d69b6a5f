// AG-UI (docs.ag-ui.com, protocol 1.0): the seed's answer run, spoken as AG-UI events, for
// CopilotKit, assistant-ui and every other AG-UI client. The input is AG-UI's RunAgentInput; the
// server checks it against @ag-ui/core's own schema too, so what this contract says is what the
// protocol says. The events are AG-UI's, written by @ag-ui/encoder.
import { z } from 'zod';
import { IdParam } from '../common.js';
import { defineOperation } from '../operation.js';
import { ANSWERS } from '../messages/operations.js';

/** How many messages a run may send (clients send the whole conversation; only the last ones are read). */
const AGUI_MAX_MESSAGES = 1000;
/** How many front-end tools a run may offer. */
const AGUI_MAX_TOOLS = 32;
/** How many context entries a run may give. */
const AGUI_MAX_CONTEXT = 32;

const AguiId = z.string().min(1).max(200);

const AguiMessage = z
  .object({
    id: AguiId,
    role: z.enum(['user', 'assistant', 'tool', 'system', 'developer', 'reasoning', 'activity']),
    content: z.unknown().optional().meta({ description: 'Text, or (user messages) a list of text parts.' }),
    toolCallId: AguiId.optional().meta({ description: 'Tool messages: the call this is the result of.' }),
    toolCalls: z.unknown().optional(),
    name: z.string().max(200).optional(),
  })
  .meta({
    id: 'AguiMessage',
    description:
      'An AG-UI message. Only the newest ones are read: the last `user` message (posted when the thread does not hold ' +
      'it yet), or the `tool` results at the end (`toolCallId`, `content`). The stored thread is the history the model sees.',
  });

const AguiTool = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -')
      .refine((name) => name !== 'update_state', 'update_state is the service\'s own tool')
      .meta({ description: 'The tool\'s name, as the model calls it.' }),
    description: z.string().max(4000),
    parameters: z.record(z.string(), z.unknown()).optional().meta({ description: 'JSON Schema of its arguments.' }),
  })
  .meta({ id: 'AguiTool', description: 'A front-end tool: offered to the model; a call to it ends the run, and the client runs it.' });

const AguiContext = z
  .object({ description: z.string().max(1000), value: z.string().max(20_000) })
  .meta({ id: 'AguiContext', description: 'Something the application tells the model (sent to it as data).' });

const AguiRunInput = z
  .object({
    threadId: IdParam.meta({ description: 'The thread (the path\'s id); in the body, when present, the same id as a string.' }),
    runId: AguiId.meta({ description: 'The run\'s id: the Idempotency-Key of the answer. The same run again replays it.' }),
    parentRunId: AguiId.optional(),
    protocolVersion: z.string().max(50).optional().meta({ description: 'Accepted and ignored.' }),
    state: z.unknown().optional().meta({
      description:
        'The state the client holds. Different from the thread\'s: it becomes the thread\'s (as a message\'s `state` does), ' +
        'before the AI answers. An empty object (what a client with no state sends) leaves the thread\'s state as it is.',
    }),
    messages: z.array(AguiMessage).max(AGUI_MAX_MESSAGES),
    tools: z.array(AguiTool).max(AGUI_MAX_TOOLS).default([]),
    context: z.array(AguiContext).max(AGUI_MAX_CONTEXT).default([]),
    forwardedProps: z.unknown().optional().meta({
      description: '`{"expected_state_version": n}` here is the state precondition (as `If-Match`); the rest is ignored.',
    }),
    resume: z.unknown().optional(),
  })
  .superRefine((value, ctx) => {
    const names = value.tools.map((tool) => tool.name);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['tools'], message: `names a tool twice (${twice})` });
  });

export const AguiEvent = z
  .looseObject({
    type: z.enum([
      'RUN_STARTED',
      'STATE_SNAPSHOT',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'STATE_DELTA',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'CUSTOM',
      'RUN_FINISHED',
      'RUN_ERROR',
    ]),
  })
  .meta({ id: 'AguiEvent', description: 'An AG-UI event (see docs.ag-ui.com); the `data:` line of each server-sent event.' });
export type AguiEvent = z.input<typeof AguiEvent>;

export const aguiRun = defineOperation({
  name: 'protocols.agui',
  method: 'POST',
  path: '/ai/threads/{thread-id}/agui',
  summary: 'Run the AI on a thread, in AG-UI',
  description:
    'AG-UI 1.0: a `RunAgentInput` in, AG-UI events out (`text/event-stream`): `RUN_STARTED`, `STATE_SNAPSHOT` (the state ' +
    'the AI starts from), `TEXT_MESSAGE_START`/`_CONTENT`/`_END`, `STATE_DELTA` (JSON Patch), `TOOL_CALL_START`/`_ARGS`/' +
    '`_END` for front-end tools, in review mode a `CUSTOM` event named `state.proposal` (`{message_id, patch, ' +
    'proposed_state}`) instead of `STATE_DELTA`, and `RUN_FINISHED` or `RUN_ERROR`. The same answer run as `POST ' +
    '.../messages`, with its rules: refusals (401, 403, 404, 409, 412, 422, 429) are JSON errors before any event; ' +
    '`runId` is the Idempotency-Key. A disconnect does not stop the answer: it is stored.',
  ...ANSWERS,
  // The run's `runId` is its idempotency key: an Idempotency-Key header is not read here.
  idempotent: false,
  successStatus: 200,
  transport: 'sse',
  framing: 'ag-ui',
  input: AguiRunInput,
  output: AguiEvent,
  errors: [400, 401, 403, 404, 409, 412, 413, 422, 429],
});
