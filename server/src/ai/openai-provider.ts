// The AI provider for any OpenAI-compatible server (OPENAI_BASE_URL), through the official SDK's
// chat completions: the update_state tool loop, streaming, usage, and the classification of
// failures into AiProviderError kinds. Edit when the conversation with the model changes.
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { isJsonObject } from '@ai-threads/contracts';
import { DEFAULT_STATE_LIMITS, type StateLimits } from '../state/limits.js';
import { applyStatePatch, type StateCheck } from './merge-patch.js';
import { diff } from '../state/json-patch.js';
import { buildMessages, frontendToolDefinition, UPDATE_STATE_TOOL, UPDATE_STATE_TOOL_NAME } from './prompt.js';
import {
  AiProviderError,
  type AiLogger,
  type AiProvider,
  type AiRequest,
  type AiResult,
  type AiUsage,
  type FrontendToolCall,
  type JsonObject,
} from './provider.js';
import { Deadline } from './deadline.js';
import { modelFetch } from './model-fetch.js';

/** Rounds of tool calls before the model is made to answer with text. */
export const MAX_TOOL_ROUNDS = 3;

export interface OpenAiProviderOptions {
  apiKey: string;
  /** Any OpenAI-compatible server, `/v1` included; the SDK's default when absent. */
  baseURL?: string;
  model: string;
  /**
   * Per model call (a reply makes up to MAX_TOOL_ROUNDS + 1): the longest wait for the whole
   * answer, or, when streaming, for the first chunk and then between two chunks.
   */
  timeoutMs: number;
  /** The SDK's retries of connection failures, 408, 409, 429 and 5xx, within timeoutMs. */
  maxRetries: number;
  logger?: AiLogger;
  /** Limits a patched state must respect; a patch that breaks them is refused to the model. */
  stateLimits?: StateLimits;
  /** The service's other rules for a state, applied to every patched state the same way. */
  checkState?: StateCheck;
}

const Usage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

const ToolCall = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({
    name: z.string(),
    // Some compatible servers send the arguments as an object rather than a JSON string.
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  }),
});

const Completion = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z.array(ToolCall).nullish(),
        }),
      }),
    )
    .min(1),
  usage: z.unknown().optional(),
});

const Chunk = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().int().nonnegative().nullish(),
                  id: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.unknown().optional(),
});

interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string | JsonObject;
}

/** One model call's answer. */
interface ModelTurn {
  text: string;
  toolCalls: ToolCallRequest[];
  model: string | null;
  usage: AiUsage | null;
}

/** Where the text of a reply goes, across rounds: one string, and the same text as deltas. */
class ReplyText {
  content = '';
  firstTokenMs: number | null = null;
  private separatorDue = false;

  constructor(
    private readonly startedAt: number,
    private readonly onDelta: ((delta: string) => void) | undefined,
    private readonly logger: AiLogger | undefined,
  ) {}

  /** Text from a new round is set apart from earlier rounds' text. */
  startRound(): void {
    this.separatorDue = this.content !== '';
  }

  append(text: string): void {
    if (text === '') return;
    const delta = this.separatorDue ? `\n\n${text}` : text;
    this.separatorDue = false;
    this.content += delta;
    if (!this.onDelta) return;
    this.firstTokenMs ??= Math.round(performance.now() - this.startedAt);
    try {
      this.onDelta(delta);
    } catch (error) {
      // The reply is stored whatever happens to its listener (a client gone, say).
      this.logger?.warn({ err: error }, 'onDelta listener failed');
    }
  }
}

export function createOpenAiProvider(options: OpenAiProviderOptions): AiProvider {
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs));
  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseURL !== undefined && { baseURL: options.baseURL }),
    timeout: timeoutMs,
    maxRetries: options.maxRetries,
    // The SDK would otherwise write to the console; failures reach the caller as errors.
    logLevel: 'off',
    // node:http on kept-alive connections: half the CPU of the built-in fetch per call (model-fetch.ts).
    fetch: modelFetch,
  });
  const stateLimits = options.stateLimits ?? DEFAULT_STATE_LIMITS;
  const logger = options.logger;

  async function callModel(
    messages: ChatCompletionMessageParam[],
    toolsAllowed: boolean,
    request: AiRequest,
    text: ReplyText,
  ): Promise<ModelTurn> {
    // The call's own deadline (streaming calls refresh it), to which the caller's abort is forwarded,
    // and the forwarding removed after. Not AbortSignal.any: the SDK adds an abort listener that it
    // never removes, and on Node 20 a composed signal with a listener is never garbage-collected (a
    // leak of every request's signal and what its listener holds).
    const deadline = new Deadline(timeoutMs, [request.signal]);
    const signal = deadline.signal;
    const params = {
      model: options.model,
      messages,
      tools: [UPDATE_STATE_TOOL, ...(request.tools ?? []).map(frontendToolDefinition)],
      tool_choice: toolsAllowed ? ('auto' as const) : ('none' as const),
    };
    try {
      if (!request.onDelta) {
        const raw: unknown = await client.chat.completions.create({ ...params, stream: false }, { signal });
        return readCompletion(raw, text);
      }
      const stream = await client.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      return await readStream(stream, text, deadline);
    } catch (error) {
      throw classifyError(error, request.signal, deadline);
    } finally {
      deadline.release();
    }
  }

  function runToolCall(state: JsonObject | null, call: ToolCallRequest): { state: JsonObject | null; reply: string } {
    const refuse = (reason: string) => {
      logger?.warn({ tool: call.name, reason }, 'tool call refused');
      return { state, reply: JSON.stringify({ error: reason }) };
    };
    if (call.name !== UPDATE_STATE_TOOL_NAME) {
      return refuse(`unknown tool "${call.name}"; the only tool is ${UPDATE_STATE_TOOL_NAME}`);
    }
    let args: unknown = call.arguments;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        return refuse('the arguments are not valid JSON');
      }
    }
    if (!isJsonObject(args) || !isJsonObject(args.patch)) {
      return refuse('the arguments must be {"patch": <a JSON object, a JSON Merge Patch>}');
    }
    try {
      const next = applyStatePatch(state, args.patch, stateLimits, options.checkState);
      return { state: next, reply: JSON.stringify(next) };
    } catch (error) {
      return refuse(`the patch was not applied: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return {
    model: options.model,
    async reply(request: AiRequest): Promise<AiResult> {
      const startedAt = performance.now();
      if (request.signal?.aborted) throw new AiProviderError('cancelled', 'The request was cancelled.');
      const messages = buildMessages(request);
      const text = new ReplyText(startedAt, request.onDelta, logger);
      let state = request.state;
      let usage: AiUsage | null = null;
      let model: string | null = null;

      /** Runs one tool call on the state, tells the caller of a change, and answers the model's reply text. */
      const applyToolCall = (call: ToolCallRequest): string => {
        const outcome = runToolCall(state, call);
        if (outcome.state !== state) notifyStateChange(request, state, outcome.state, logger);
        state = outcome.state;
        return outcome.reply;
      };
      /** The reply as it stands, ended on `toolCalls` (front-end calls) when given. */
      const replied = (toolCalls?: FrontendToolCall[]): AiResult => ({
        content: text.content,
        state,
        model: model ?? options.model,
        usage,
        firstTokenMs: request.onDelta ? text.firstTokenMs : null,
        ...(toolCalls ? { toolCalls } : {}),
      });

      for (let round = 0; ; round++) {
        const toolsAllowed = round < MAX_TOOL_ROUNDS;
        text.startRound();
        const turn = await callModel(messages, toolsAllowed, request, text);
        model = turn.model ?? model;
        usage = addUsage(usage, turn.usage);
        const frontend = frontendCalls(request, turn);
        if (frontend.length > 0 && toolsAllowed) {
          // The answer ends on a front-end call: the client runs it. The turn's update_state
          // calls still count; nothing is sent back to the model for this turn.
          for (const call of turn.toolCalls) if (call.name === UPDATE_STATE_TOOL_NAME) applyToolCall(call);
          return replied(frontend);
        }
        if (turn.toolCalls.length > 0 && toolsAllowed) {
          messages.push(assistantToolMessage(turn));
          for (const call of turn.toolCalls) {
            messages.push({ role: 'tool', tool_call_id: call.id, content: applyToolCall(call) });
          }
          continue;
        }
        if (text.content === '') {
          const reason = turn.toolCalls.length > 0 ? `still calling tools after ${MAX_TOOL_ROUNDS} rounds` : 'no text';
          throw new AiProviderError('malformed', `The model answered with ${reason}.`);
        }
        return replied();
      }
    },
  };
}

/** The calls of a turn to tools the client offered (by name), as the client receives them. */
function frontendCalls(request: AiRequest, turn: ModelTurn): FrontendToolCall[] {
  const offered = new Set((request.tools ?? []).map((tool) => tool.name));
  return turn.toolCalls
    .filter((call) => offered.has(call.name))
    .map((call) => ({
      id: call.id,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    }));
}

/** Tells the caller of one applied state change; a listener's failure is logged, never the answer's. */
function notifyStateChange(request: AiRequest, before: JsonObject | null, after: JsonObject | null, logger: AiLogger | undefined) {
  if (!request.onStateChange) return;
  const patch = diff(before, after);
  if (patch.length === 0) return;
  try {
    request.onStateChange({ patch, state: after });
  } catch (error) {
    logger?.warn({ err: error }, 'onStateChange listener failed');
  }
}

function readCompletion(raw: unknown, text: ReplyText): ModelTurn {
  const parsed = Completion.safeParse(raw);
  if (!parsed.success) throw new AiProviderError('malformed', 'The model server answered with an unexpected body.');
  const completion = parsed.data;
  const message = completion.choices[0]!.message;
  // A refusal is the model's answer too; without it the reply would look empty.
  const answer = message.content || message.refusal || '';
  text.append(answer);
  return {
    text: answer,
    toolCalls: (message.tool_calls ?? []).map((call, index) => ({
      id: call.id ?? `call_${index}`,
      name: call.function.name,
      arguments: call.function.arguments ?? '',
    })),
    model: completion.model ?? null,
    usage: readUsage(completion.usage),
  };
}

async function readStream(stream: AsyncIterable<unknown>, text: ReplyText, deadline: Deadline): Promise<ModelTurn> {
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  let roundText = '';
  let model: string | null = null;
  let usage: AiUsage | null = null;
  let finished = false;
  for await (const raw of stream) {
    deadline.refresh();
    const parsed = Chunk.safeParse(raw);
    if (!parsed.success) throw new AiProviderError('malformed', 'The model server streamed an unexpected chunk.');
    const chunk = parsed.data;
    model = chunk.model ?? model;
    usage = readUsage(chunk.usage) ?? usage;
    for (const choice of chunk.choices ?? []) {
      if (choice.finish_reason) finished = true;
      const content = choice.delta?.content || choice.delta?.refusal;
      if (content) {
        roundText += content;
        text.append(content);
      }
      for (const [position, fragment] of (choice.delta?.tool_calls ?? []).entries()) {
        const index = fragment.index ?? position;
        const call = calls.get(index) ?? { id: '', name: '', arguments: '' };
        calls.set(index, call);
        if (fragment.id) call.id = fragment.id;
        if (fragment.function?.name) call.name = fragment.function.name;
        if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
      }
    }
  }
  // The SDK ends an aborted stream quietly, as if it were complete; classifyError tells an abort
  // from a server that hung up.
  if (!finished) {
    throw new AiProviderError('upstream', 'The model server ended the stream before the answer was complete.');
  }
  return {
    text: roundText,
    toolCalls: [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` })),
    model,
    usage,
  };
}

/** Usage summed over rounds; null only while no round has reported any. */
function addUsage(total: AiUsage | null, more: AiUsage | null): AiUsage | null {
  if (!more) return total;
  if (!total) return more;
  return {
    prompt_tokens: total.prompt_tokens + more.prompt_tokens,
    completion_tokens: total.completion_tokens + more.completion_tokens,
  };
}

function readUsage(raw: unknown): AiUsage | null {
  // Most streamed chunks carry none: no parse (a failed one builds an error with its stack).
  if (raw === undefined || raw === null) return null;
  const parsed = Usage.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

function assistantToolMessage(turn: ModelTurn): ChatCompletionMessageParam {
  const toolCalls: ChatCompletionMessageToolCall[] = turn.toolCalls.map((call) => ({
    id: call.id,
    type: 'function',
    function: {
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    },
  }));
  return { role: 'assistant', content: turn.text === '' ? null : turn.text, tool_calls: toolCalls };
}

function classifyError(error: unknown, userSignal: AbortSignal | undefined, deadline: Deadline): AiProviderError {
  const options = { cause: error };
  // An abort surfaces as whatever the SDK or fetch was doing at the time: the signals say why.
  if (userSignal?.aborted) return new AiProviderError('cancelled', 'The request was cancelled.', options);
  if (deadline.expired || error instanceof APIConnectionTimeoutError) {
    return new AiProviderError('timeout', 'The model server did not answer in time.', options);
  }
  if (error instanceof AiProviderError) return error;
  if (error instanceof APIUserAbortError) return new AiProviderError('cancelled', 'The request was cancelled.', options);
  if (error instanceof APIError) {
    const status = error.status === undefined ? '' : ` (HTTP ${error.status})`;
    return new AiProviderError('upstream', `The model server failed${status}: ${error.message}`, options);
  }
  if (error instanceof SyntaxError) {
    return new AiProviderError('malformed', 'The model server answered with invalid JSON.', options);
  }
  // Anything else is the connection failing mid-answer (a socket closed while streaming, say).
  const detail = error instanceof Error ? error.message : String(error);
  return new AiProviderError('upstream', `The model server connection failed: ${detail}`, options);
}
