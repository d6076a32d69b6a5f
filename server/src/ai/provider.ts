// The AI provider interface: what the message service needs from a model, whichever server
// answers. Edit when the service needs something new from the model (a new kind of event, say).
import type { JsonObject } from '@ai-threads/contracts';
import type { JsonPatch } from '../state/json-patch.js';

export type { JsonObject };

/** A front-end tool the model called: the answer ends on it, and the client runs it (AG-UI). */
export interface FrontendToolCall {
  id: string;
  name: string;
  /** The arguments as the JSON text the model wrote. */
  arguments: string;
}

/** A turn of the conversation as the model sees it. */
export type ChatTurn =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: FrontendToolCall[] | null | undefined }
  | { role: 'tool'; content: string; toolCallId: string };

/** A tool the client offers (AG-UI `tools`): the model may call it beside update_state. */
export interface FrontendTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments; absent: none. */
  parameters?: Record<string, unknown> | undefined;
}

/** What the application tells the model besides the state (AG-UI `context`). */
export interface ContextItem {
  description: string;
  value: string;
}

export interface AiRequest {
  /** The thread's instructions (system prompt), if any. */
  instructions: string | null;
  /** The windowed history, oldest first; the last turn is the new user message (or tool result). */
  history: ChatTurn[];
  /** Front-end tools offered beside update_state; calling one ends the answer (AiResult.toolCalls). */
  tools?: FrontendTool[] | undefined;
  /** Context the application gives the model, sent after the state. */
  context?: ContextItem[] | undefined;
  /** The state the model may change (the one sent, else the thread's latest). */
  state: JsonObject | null;
  /** Aborts the upstream call (explicit cancel, shutdown). */
  signal?: AbortSignal;
  /** When given, the reply text is streamed: called with each text delta as it arrives. */
  onDelta?: (delta: string) => void;
  /**
   * Called after each state change the model makes (one update_state call, or one offline
   * command), with the JSON Patch from the state before it and the state after it.
   */
  onStateChange?: (change: { patch: JsonPatch; state: JsonObject | null }) => void;
}

export interface AiUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface AiResult {
  content: string;
  /** The state after every update_state patch, in order; equal to the input when none. */
  state: JsonObject | null;
  model: string;
  usage: AiUsage | null;
  /** Milliseconds from the call to the first text delta (streaming only), else null. */
  firstTokenMs: number | null;
  /** The front-end tools the model called; the answer ended on them. Absent or empty: none. */
  toolCalls?: FrontendToolCall[];
}

export type AiErrorKind = 'upstream' | 'timeout' | 'malformed' | 'cancelled';

/** A failure of the model call, classified so the service can answer 502, 504 or keep a cancel. */
export class AiProviderError extends Error {
  constructor(
    readonly kind: AiErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AiProviderError';
  }
}

/** The subset of a pino logger the providers use. */
export interface AiLogger {
  warn(details: object, message: string): void;
}

export interface AiProvider {
  /** The model name stored on assistant messages (`offline` for the offline provider). */
  readonly model: string;
  reply(request: AiRequest): Promise<AiResult>;
}
