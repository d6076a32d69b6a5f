// The public surface of the contracts package: every operation and shared schema. Only zod here,
// so the SDK can ship it without server code.
export * from './operation.js';
export * from './common.js';
export * from './users.js';
export * from './auth/session.js';
export * from './auth/me.js';
export * from './api-tokens/api-token.js';
export * from './text.js';
export * from './threads/thread.js';
export * from './messages/message.js';
export * from './state/state.js';
export { ProposalAccepted } from './state/operations.js';
export { MessageContent, MessageInput } from './messages/operations.js';
export { AguiEvent } from './protocols/agui.js';
export {
  StreamEvent,
  StreamEventData,
  StreamMessageCreated,
  StreamResponseDelta,
  StreamStateDelta,
  StreamResponseCompleted,
  StreamError,
  streamEventData,
  CancelResult,
  type StreamEventName,
} from './messages/stream.js';

export {
  UiStreamInput,
  UiStreamPart,
  UiStreamMetadata,
  UiStreamProposal,
  UI_STREAM_MAX_MESSAGES,
  uiMessageText,
} from './protocols/ui-stream.js';

import { getMe } from './auth/me.js';
import { signIn } from './auth/sign-in.js';
import { signOut } from './auth/sign-out.js';
import { signUp } from './auth/sign-up.js';
import { createApiToken } from './api-tokens/create.js';
import { getApiToken, listApiTokens } from './api-tokens/list.js';
import { revokeApiToken } from './api-tokens/revoke.js';
import { createThread, deleteThread, getThread, listThreads, setHead, updateThread } from './threads/operations.js';
import { createMessage, getMessage, listMessages, listSiblings, regenerateMessage } from './messages/operations.js';
import { cancelMessage, streamMessage, streamRegenerate } from './messages/stream.js';
import {
  acceptProposal,
  getRevision,
  getState,
  listRevisions,
  patchState,
  rejectProposal,
  revertState,
} from './state/operations.js';
import { protocols } from './protocols/index.js';
import type { Operation } from './operation.js';

/** Every operation, grouped as the tRPC router nests them. */
export const contracts = {
  auth: { signUp, signIn, signOut },
  me: { get: getMe },
  apiTokens: { create: createApiToken, list: listApiTokens, get: getApiToken, revoke: revokeApiToken },
  threads: {
    create: createThread,
    list: listThreads,
    get: getThread,
    update: updateThread,
    delete: deleteThread,
    setHead,
    state: {
      get: getState,
      patch: patchState,
      revert: revertState,
      revisions: { list: listRevisions, get: getRevision },
    },
  },
  messages: {
    create: createMessage,
    stream: streamMessage,
    cancel: cancelMessage,
    list: listMessages,
    get: getMessage,
    regenerate: regenerateMessage,
    regenerateStream: streamRegenerate,
    siblings: listSiblings,
    proposal: { accept: acceptProposal, reject: rejectProposal },
  },
  protocols,
} as const;

/** Whether a node of the contracts table is an operation (else a group of them). */
export function isOperation(node: unknown): node is Operation {
  return typeof node === 'object' && node !== null && 'routePath' in node && 'input' in node;
}

function flatten(node: object): Operation[] {
  return Object.values(node).flatMap((value: unknown) =>
    isOperation(value) ? [value] : typeof value === 'object' && value !== null ? flatten(value) : [],
  );
}

/** Every operation of the table, in its order: what the document, the SDK generator and the faces iterate. */
export const operations: readonly Operation[] = flatten(contracts);

const byName = new Map(operations.map((op) => [op.name, op]));

/** The operation with this dotted name (`threads.get`), if any. */
export function operationNamed(name: string): Operation | undefined {
  return byName.get(name);
}
