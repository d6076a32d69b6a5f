// The offline model, used when no AI key is configured: deterministic, no network, so that every
// endpoint can be tried at once. It understands a few state commands ("set form.color to blue",
// "unset form.color") and otherwise echoes. Edit to teach it new commands.
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './history.js';
import { DEFAULT_STATE_LIMITS, type StateLimits } from '../state/limits.js';
import { applyStatePatch, MergePatchError, type StateCheck } from './merge-patch.js';
import { diff } from '../state/json-patch.js';
import { buildMessages } from './prompt.js';
import {
  AiProviderError,
  type AiLogger,
  type AiProvider,
  type AiRequest,
  type AiResult,
  type FrontendToolCall,
  type JsonObject,
} from './provider.js';

const OFFLINE_MODEL = 'offline';

const ECHO_LIMIT = 200;
const VALUE_DISPLAY_LIMIT = 100;

const PATH = String.raw`[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*`;
const SET_COMMAND = new RegExp(String.raw`^set\s+(${PATH})\s+(?:to|=)\s+(.+)$`, 'i');
const UNSET_COMMAND = new RegExp(String.raw`^(?:unset|remove|delete)\s+(${PATH})$`, 'i');
/** `call focus_field {"field": "email"}`: calls a front-end tool the client offered. */
const CALL_COMMAND = /^call\s+([A-Za-z0-9_-]{1,64})(?:\s+(\{.*\}))?$/i;

export interface StateCommand {
  path: string[];
  /** null removes the key (JSON Merge Patch). */
  value: unknown;
}

/** The commands in a message, one a line; empty when any non-blank line is not a command. */
export function parseStateCommands(message: string): StateCommand[] {
  const commands: StateCommand[] = [];
  for (const rawLine of message.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const set = SET_COMMAND.exec(line);
    if (set) {
      commands.push({ path: set[1]!.split('.'), value: parseValue(set[2]!.trim()) });
      continue;
    }
    const unset = UNSET_COMMAND.exec(line);
    if (unset) {
      commands.push({ path: unset[1]!.split('.'), value: null });
      continue;
    }
    return [];
  }
  return commands;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function patchFor(command: StateCommand): JsonObject {
  let value: unknown = command.value;
  for (const key of [...command.path].reverse()) {
    const level: JsonObject = {};
    // A path segment such as `__proto__` is a plain key, as in any patch.
    Object.defineProperty(level, key, { value, writable: true, enumerable: true, configurable: true });
    value = level;
  }
  return value as JsonObject;
}

function describe(command: StateCommand): string {
  const path = command.path.join('.');
  if (command.value === null) return `removed ${path}`;
  const shown = JSON.stringify(command.value);
  return `set ${path} to ${shown.length > VALUE_DISPLAY_LIMIT ? `${shown.slice(0, VALUE_DISPLAY_LIMIT)}…` : shown}`;
}

function joinClauses(clauses: string[]): string {
  if (clauses.length <= 1) return clauses.join('');
  return `${clauses.slice(0, -1).join(', ')} and ${clauses[clauses.length - 1]}`;
}

/** The text, quoted and cut at ECHO_LIMIT characters. */
function echoText(message: string): string {
  const characters = Array.from(message.trim());
  return `"${characters.slice(0, ECHO_LIMIT).join('')}${characters.length > ECHO_LIMIT ? '…' : ''}"`;
}

function echo(message: string): string {
  return (
    `Offline model (no AI key configured). You said: ${echoText(message)}. ` +
    'Try "set form.color to blue" to change the state.'
  );
}

interface OfflineAnswer {
  content: string;
  state: JsonObject | null;
  steps: JsonObject[];
  toolCalls?: FrontendToolCall[];
}

/**
 * A message that is one `call <tool> <json>` line, for a tool the client offered: the answer ends
 * on that call. A tool's result (the last turn) is acknowledged with its text.
 */
function toolAnswer(request: AiRequest, message: string): OfflineAnswer | undefined {
  const last = request.history.at(-1);
  if (last?.role === 'tool') {
    const call = request.history.flatMap((turn) => (turn.role === 'assistant' ? (turn.toolCalls ?? []) : [])).find((c) => c.id === last.toolCallId);
    return { content: `Offline model: ${call?.name ?? 'the tool'} answered: ${echoText(last.content)}`, state: request.state, steps: [] };
  }
  const command = CALL_COMMAND.exec(message.trim());
  if (!command || !request.tools?.some((tool) => tool.name === command[1])) return undefined;
  const count = request.history.filter((turn) => turn.role === 'user').length;
  return {
    content: '',
    state: request.state,
    steps: [],
    toolCalls: [{ id: `call_offline_${count}`, name: command[1]!, arguments: command[2] ?? '{}' }],
  };
}

function answer(request: AiRequest, limits: StateLimits, check: StateCheck | undefined): OfflineAnswer {
  const lastUserTurn = request.history.findLast((turn) => turn.role === 'user');
  const message = lastUserTurn?.content ?? '';
  const toolTurn = toolAnswer(request, message);
  if (toolTurn) return toolTurn;
  const commands = parseStateCommands(message);
  if (commands.length === 0) return { content: echo(message), state: request.state, steps: [] };
  let state = request.state;
  // The state after each command: each is one change, as one update_state call would be.
  const steps: JsonObject[] = [];
  try {
    for (const command of commands) {
      state = applyStatePatch(state, patchFor(command), limits, check);
      steps.push(state);
    }
  } catch (error) {
    if (!(error instanceof MergePatchError)) throw error;
    return { content: `Offline model: I could not change the state: ${error.message}.`, state: request.state, steps: [] };
  }
  return { content: `Offline model: I ${joinClauses(commands.map(describe))}.`, state, steps };
}

function countPromptTokens(request: AiRequest): number {
  let total = 0;
  for (const message of buildMessages(request)) {
    total += MESSAGE_OVERHEAD_TOKENS + (typeof message.content === 'string' ? countTokens(message.content) : 0);
  }
  return total;
}

/** Word-sized pieces (each word with the spaces after it) that concatenate to the text. */
function chunksOf(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [text];
}

function nextTurnOfEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface OfflineProviderOptions {
  stateLimits?: StateLimits;
  /** The service's other rules for a state, as for the OpenAI provider. */
  checkState?: StateCheck;
  logger?: AiLogger;
}

export function createOfflineProvider(options: OfflineProviderOptions = {}): AiProvider {
  const limits = options.stateLimits ?? DEFAULT_STATE_LIMITS;
  const cancelled = () => new AiProviderError('cancelled', 'The request was cancelled.');
  return {
    model: OFFLINE_MODEL,
    async reply(request: AiRequest): Promise<AiResult> {
      const startedAt = performance.now();
      if (request.signal?.aborted) throw cancelled();
      const { content, state, steps, toolCalls } = answer(request, limits, options.checkState);
      if (request.onStateChange) {
        let before = request.state;
        for (const after of steps) {
          try {
            request.onStateChange({ patch: diff(before, after), state: after });
          } catch (error) {
            options.logger?.warn({ err: error }, 'onStateChange listener failed');
          }
          before = after;
        }
      }
      let firstTokenMs: number | null = null;
      if (request.onDelta) {
        for (const chunk of content === '' ? [] : chunksOf(content)) {
          firstTokenMs ??= Math.round(performance.now() - startedAt);
          try {
            request.onDelta(chunk);
          } catch (error) {
            // The reply is stored whatever happens to its listener (a client gone, say).
            options.logger?.warn({ err: error }, 'onDelta listener failed');
          }
          // Yielding lets a streaming response flush each delta and a cancel arrive in between.
          await nextTurnOfEventLoop();
          if (request.signal?.aborted) throw cancelled();
        }
      }
      return {
        content,
        state,
        model: OFFLINE_MODEL,
        usage: { prompt_tokens: countPromptTokens(request), completion_tokens: countTokens(content) },
        firstTokenMs,
        ...(toolCalls ? { toolCalls } : {}),
      };
    },
  };
}
