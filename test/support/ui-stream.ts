// Driving POST .../ui-stream with the AI SDK's own client (the `ai` package, v6): its
// DefaultChatTransport sends what useChat sends, and readUIMessageStream assembles the parts into
// the UIMessage a front end would hold. Also the raw request, for refusals (status, headers, body).
// Edit when the ui-stream suites need another way to call the route.
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { expect } from 'vitest';
import type { TestApp } from './harness.js';

const uiStreamPath = (threadId: number | string) => `/api/v1/ai/threads/${threadId}/ui-stream`;

/** A user message as useChat makes it from `sendMessage({ text })`. */
export function userText(text: string, id = `client-${Math.random().toString(36).slice(2)}`): UIMessage {
  return { id, role: 'user', parts: [{ type: 'text', text }] };
}

export interface ChatRequest {
  token?: string | undefined;
  messages: UIMessage[];
  trigger?: 'submit-message' | 'regenerate-message';
  messageId?: string | undefined;
  /** What the app adds to the body (`state`, `expected_state_version`). */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The transport, as an app configures it for one thread. */
function transportFor(app: TestApp, threadId: number | string, request: ChatRequest) {
  return new DefaultChatTransport({
    api: `${app.url}${uiStreamPath(threadId)}`,
    headers: { ...(request.token ? { authorization: `Bearer ${request.token}` } : {}), ...request.headers },
  });
}

/** sendMessages as useChat calls it: the stream of parts, or a rejection with the server's answer text. */
export function sendChat(app: TestApp, threadId: number | string, request: ChatRequest): Promise<ReadableStream<UIMessageChunk>> {
  return transportFor(app, threadId, request).sendMessages({
    chatId: `chat-${threadId}`,
    messages: request.messages,
    trigger: request.trigger ?? 'submit-message',
    messageId: request.messageId,
    abortSignal: undefined,
    ...(request.body ? { body: request.body } : {}),
  });
}

export interface ChatResult {
  /** Every part, in order, as the transport parsed them. */
  chunks: UIMessageChunk[];
  /** The assistant message readUIMessageStream assembled from them. */
  message: UIMessage;
}

/** Sends, reads every part and assembles the message; rejects when the stream carried an error part. */
export async function chat(app: TestApp, threadId: number | string, request: ChatRequest): Promise<ChatResult> {
  const chunks: UIMessageChunk[] = [];
  // The reader updates a data part in place when a later one has its id: it reads copies.
  const copies = (await sendChat(app, threadId, request)).pipeThrough(
    new TransformStream<UIMessageChunk, UIMessageChunk>({
      transform(chunk, controller) {
        chunks.push(chunk);
        controller.enqueue(structuredClone(chunk));
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream({ stream: copies, terminateOnError: true })) message = snapshot;
  expect(message, 'the stream assembled no message').toBeDefined();
  return { chunks, message: message! };
}

/** The text of an assembled message: its text parts, joined. */
export function textOf(message: UIMessage): string {
  return message.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}

/** The data of every part of this type, in order (`data-state`, `data-proposal`). */
export function dataOf(chunks: UIMessageChunk[], type: `data-${string}`): unknown[] {
  return chunks.flatMap((chunk) => (chunk.type === type ? [(chunk as { data: unknown }).data] : []));
}

/** The `finish` part's metadata: the stored ids and the state version. */
export function finishOf(chunks: UIMessageChunk[]) {
  const finish = chunks.find((chunk) => chunk.type === 'finish');
  expect(finish, 'no finish part').toBeDefined();
  return (finish as { messageMetadata: { created_message_id: number; response_message_id: number; state_version: number | null } })
    .messageMetadata;
}

/** The route called with fetch: status, headers and body text (a refusal's JSON, or the raw stream). */
export async function postUiStream(app: TestApp, threadId: number | string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}${uiStreamPath(threadId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}
