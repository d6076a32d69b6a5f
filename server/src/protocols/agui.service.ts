// AG-UI: a RunAgentInput in, the seed's answer run, AG-UI events out. What the run answers is read
// from the end of `messages` (a new user message, or the results of the front-end tools the last
// answer called); the history the model sees is the stored thread, never the client's copy. The
// events are our answer events translated: the stream service runs and logs the answer, so a
// dropped connection loses nothing (the answer is stored) and every rule of the seed holds.
import type { BaseEvent, Message as AguiMessage } from '@ag-ui/core';
import { z } from 'zod';
import { EventType } from '@ag-ui/core';
import { RunAgentInputSchema } from '@ag-ui/core/schemas';
import { isJsonObject, MessageContent, storable, type AguiEvent, type contracts, type InputOf, type JsonObject, type MessagePair } from '@ai-threads/contracts';
import type { Database } from '@ai-threads/db';
import type { Principal } from '../auth/auth.service.js';
import { AppError } from '../errors.js';
import type { LoggedEvent } from '../messages/answer-runs.js';
import * as messagesRepo from '../messages/messages.repo.js';
import type { AnswerHooks, MessagesService } from '../messages/messages.service.js';
import type { OpenOptions, StreamsService } from '../messages/streams.service.js';
import { applyJsonPatch, jsonEqual } from '../state/json-patch.js';
import { ownThread } from '../threads/threads.service.js';

type AguiInput = InputOf<typeof contracts.protocols.agui>;

/**
 * One AG-UI event with the id of its server-sent event, as the contract describes it: the same
 * object as @ag-ui/core's event (whose `type` is a string enum, which TypeScript does not take for
 * the contract's string literals).
 */
export interface AguiStreamEvent {
  id: string;
  event: AguiEvent;
}

/** What a run answers, read from the end of its messages. */
type RunRequest =
  | { kind: 'message'; content: string }
  | { kind: 'tool'; results: Array<{ toolCallId: string; content: string }> };

const field = AppError.field;

/**
 * The input checked against AG-UI's own schema (@ag-ui/core): what our contract lets through
 * loosely (the messages' shapes) is the protocol's to judge. Its issues are ours, in our format.
 */
function protocolMessages(input: AguiInput): AguiMessage[] {
  const parsed = RunAgentInputSchema.safeParse({ ...input, threadId: String(input.threadId) });
  if (parsed.success) return parsed.data.messages;
  const fields: Record<string, string[]> = {};
  for (const issue of parsed.error.issues) {
    const name = issue.path.join('.') || 'body';
    (fields[name] ??= []).push(`The ${name} field is not valid AG-UI: ${issue.message}.`);
  }
  throw new AppError('validation', { fields });
}

/** A message's text: a string, or its text parts joined; anything else (images, files) is refused. */
function textOf(content: unknown, name: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw field(name, `The ${name} field must be text.`);
  return content
    .map((part: unknown) => {
      if (typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text') {
        return String((part as { text?: unknown }).text ?? '');
      }
      throw field(name, `The ${name} field must hold text parts only; this service does not take images or files.`);
    })
    .join('\n');
}

/** A tool's result: any text PostgreSQL can store (no NUL, no lone surrogate). */
const ToolResult = storable(z.string());

/** `text` as `schema` takes it (a message's text: the seed's rule), else a 422 on `name` in its words. */
function checked(schema: z.ZodType<string>, text: string, name: string): string {
  const result = schema.safeParse(text);
  if (!result.success) throw field(name, `The content field ${result.error.issues[0]?.message ?? 'is invalid'}.`);
  return text;
}

/**
 * What to answer: the tool results at the end of the messages (after the answer that called the
 * tools), else the newest message, which must be a user message the thread does not hold yet.
 */
function requestOf(messages: AguiMessage[]): RunRequest {
  let first = messages.length;
  while (first > 0 && messages[first - 1]!.role === 'tool') first--;
  if (first < messages.length) {
    return {
      kind: 'tool',
      results: messages.slice(first).map((message, i) => {
        const tool = message as Extract<AguiMessage, { role: 'tool' }>;
        const name = `messages.${first + i}.content`;
        return { toolCallId: tool.toolCallId, content: checked(ToolResult, textOf(tool.content, name), name) };
      }),
    };
  }
  const last = messages.at(-1);
  const at = `messages.${messages.length - 1}`;
  if (!last) throw field('messages', 'The messages field must end with a new user message or the results of tool calls.');
  if (last.role !== 'user') throw field(`${at}.role`, 'The newest message must be a user message or a tool result.');
  return { kind: 'message', content: checked(MessageContent, textOf(last.content, `${at}.content`), `${at}.content`) };
}

/** The state the client sends: an object, or nothing; `{}` (a client that holds none) changes nothing. */
function sentState(state: unknown): JsonObject | undefined {
  if (state === undefined || state === null) return undefined;
  if (!isJsonObject(state)) throw field('state', 'The state field must be a JSON object.');
  return Object.keys(state).length === 0 ? undefined : state;
}

/** `forwardedProps.expected_state_version`, the precondition an AG-UI client can send per run. */
function forwardedVersion(props: unknown): number | undefined {
  if (typeof props !== 'object' || props === null || !('expected_state_version' in props)) return undefined;
  const version = (props as { expected_state_version: unknown }).expected_state_version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    throw field('forwardedProps.expected_state_version', 'The expected state version field must be a non-negative integer.');
  }
  return version;
}

export interface AguiServiceDeps {
  db: Database;
  messages: MessagesService;
  streams: StreamsService;
}

export function createAguiService(deps: AguiServiceDeps) {
  const { db, messages, streams } = deps;

  /**
   * The tool results must answer, each once, calls of the answer at the thread's head. When the
   * head is instead the last of these results, stored by a run whose answer then failed (or was
   * cancelled), that message is answered again: its id is returned.
   */
  async function checkToolResults(threadId: number, headId: number | null, results: Array<{ toolCallId: string }>) {
    const head = headId === null ? undefined : await messagesRepo.findMessage(db, threadId, headId);
    const unanswered = head?.role === 'tool' && (head.status === 'failed' || head.status === 'cancelled');
    if (unanswered && head.toolCallId === results.at(-1)?.toolCallId) return head.id;
    const open = new Set((head?.role === 'assistant' ? (head.toolCalls ?? []) : []).map((call) => call.id));
    for (const [i, { toolCallId }] of results.entries()) {
      if (!open.delete(toolCallId)) {
        throw field(
          `messages.${i}.toolCallId`,
          'The tool call id field must name a call of the thread\'s newest answer that has no result yet.',
        );
      }
    }
    return undefined;
  }

  return {
    async run(principal: Principal, input: AguiInput, options: OpenOptions): Promise<AsyncIterable<AguiStreamEvent>> {
      const aguiMessages = protocolMessages(input);
      const state = sentState(input.state);
      const expected = forwardedVersion(input.forwardedProps);
      const thread = await ownThread(db, principal.user.id, input.threadId);
      const request = requestOf(aguiMessages);
      let retryMessageId: number | undefined;
      if (request.kind === 'message') {
        // A message the thread holds (a client that loaded the thread has our ids) is not posted again.
        const latest = aguiMessages.at(-1)!;
        if (/^[1-9][0-9]{0,14}$/.test(latest.id) && (await messagesRepo.findMessage(db, input.threadId, Number(latest.id)))) {
          throw field(
            `messages.${aguiMessages.length - 1}.id`,
            'The newest user message is already in the thread: send a new one, or regenerate its answer.',
          );
        }
      } else {
        retryMessageId = await checkToolResults(input.threadId, thread.headMessageId, request.results);
      }

      let begun: Parameters<NonNullable<AnswerHooks['onBegun']>>[0] | undefined;
      const extra: AnswerHooks = {
        tools: input.tools,
        context: input.context,
        reserveReplyId: true,
        onBegun: (value) => (begun = value),
      };
      const precondition = expected === undefined ? options.precondition : { kind: 'versions' as const, versions: [expected] };
      const events = await streams.openAnswer(
        principal,
        input.threadId,
        { ...options, idempotencyKey: input.runId, precondition },
        (hooks: AnswerHooks) =>
          request.kind === 'message'
            ? messages.create(
                principal,
                { threadId: input.threadId, content: request.content, state, expected_state_version: expected },
                { ...hooks, ...extra },
              )
            : messages.answerToolResults(
                principal,
                { threadId: input.threadId, results: request.results, state, expected_state_version: expected, retryMessageId },
                { ...hooks, ...extra },
              ),
      );
      return translate(events, {
        threadId: String(input.threadId),
        runId: input.runId,
        begun: () => begun,
        currentState: async () => (await ownThread(db, principal.user.id, input.threadId)).state ?? null,
      });
    },
  };
}


interface TranslateContext {
  threadId: string;
  runId: string;
  /** What the answer began from (undefined for a replayed run, which began earlier). */
  begun: () => { state: JsonObject | null; replyId: number | undefined; review: boolean } | undefined;
  currentState: () => Promise<JsonObject | null>;
}

/**
 * Our answer's events as AG-UI events. The client's copy of the state is followed as it applies
 * the events; when the stored outcome differs from it (a replay, or someone's change while the AI
 * answered, merged on top), a final STATE_SNAPSHOT makes it the thread's state.
 */
async function* translate(events: AsyncIterable<LoggedEvent>, ctx: TranslateContext): AsyncGenerator<AguiStreamEvent> {
  let seq = 0;
  const next = (event: BaseEvent): AguiStreamEvent => ({ id: `${ctx.runId}:${seq++}`, event: event as unknown as AguiEvent });
  const { threadId, runId } = ctx;
  yield next({ type: EventType.RUN_STARTED, threadId, runId } as BaseEvent);

  let clientState: unknown;
  let textId: string | undefined;
  let streamedText = false;
  for await (const { event } of events) {
    switch (event.event) {
      case 'message.created': {
        const begun = ctx.begun();
        if (begun) {
          clientState = begun.state;
          yield next({ type: EventType.STATE_SNAPSHOT, snapshot: begun.state } as BaseEvent);
        }
        break;
      }
      case 'response.delta': {
        if (event.data.delta === '') break;
        if (textId === undefined) {
          textId = replyIdOf(ctx);
          yield next({ type: EventType.TEXT_MESSAGE_START, messageId: textId, role: 'assistant' } as BaseEvent);
        }
        streamedText = true;
        yield next({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: textId, delta: event.data.delta } as BaseEvent);
        break;
      }
      case 'state.delta': {
        if (event.data.proposed) break;
        clientState = applyJsonPatch(clientState ?? null, event.data.patch);
        yield next({ type: EventType.STATE_DELTA, delta: event.data.patch } as BaseEvent);
        break;
      }
      case 'response.completed': {
        yield* completed(event.data, { textId, streamedText, clientState }, ctx, next);
        return;
      }
      case 'error': {
        if (textId !== undefined) yield next({ type: EventType.TEXT_MESSAGE_END, messageId: textId } as BaseEvent);
        yield next({ type: EventType.RUN_ERROR, message: event.data.message, code: String(event.data.status) } as BaseEvent);
        return;
      }
    }
  }
}

/** The id the reply will have (reserved when the answer began); the stored id once it is stored. */
function replyIdOf(ctx: TranslateContext): string {
  const id = ctx.begun()?.replyId;
  return id === undefined ? `${ctx.runId}:reply` : String(id);
}

async function* completed(
  pair: MessagePair,
  run: { textId: string | undefined; streamedText: boolean; clientState: unknown },
  ctx: TranslateContext,
  next: (event: BaseEvent) => AguiStreamEvent,
): AsyncGenerator<AguiStreamEvent> {
  const reply = pair.responseMessage;
  const messageId = run.textId ?? String(reply.id);
  if (!run.streamedText && reply.content !== '') {
    // A replayed run: the text comes whole.
    yield next({ type: EventType.TEXT_MESSAGE_START, messageId, role: 'assistant' } as BaseEvent);
    yield next({ type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta: reply.content } as BaseEvent);
  }
  if (run.streamedText || reply.content !== '') yield next({ type: EventType.TEXT_MESSAGE_END, messageId } as BaseEvent);
  for (const call of reply.tool_calls ?? []) {
    yield next({ type: EventType.TOOL_CALL_START, toolCallId: call.id, toolCallName: call.name, parentMessageId: messageId } as BaseEvent);
    if (call.arguments !== '') yield next({ type: EventType.TOOL_CALL_ARGS, toolCallId: call.id, delta: call.arguments } as BaseEvent);
    yield next({ type: EventType.TOOL_CALL_END, toolCallId: call.id } as BaseEvent);
  }
  if (reply.proposal?.status === 'pending') {
    yield next({
      type: EventType.CUSTOM,
      name: 'state.proposal',
      value: { message_id: reply.id, patch: reply.proposal.patch, proposed_state: reply.proposal.proposed_state },
    } as BaseEvent);
  }
  const current = await ctx.currentState();
  if (run.clientState === undefined || !jsonEqual(run.clientState, current)) {
    yield next({ type: EventType.STATE_SNAPSHOT, snapshot: current } as BaseEvent);
  }
  const pending = (reply.tool_calls ?? []).map((call) => call.id);
  yield next({
    type: EventType.RUN_FINISHED,
    threadId: ctx.threadId,
    runId: ctx.runId,
    result: { createdMessage: pair.createdMessage.id, responseMessage: reply.id, state_version: reply.state_version },
    outcome: { type: 'success', ...(pending.length > 0 ? { pendingToolCallIds: pending } : {}) },
  } as BaseEvent);
}
