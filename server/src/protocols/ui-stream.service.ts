// The AI SDK's UI message stream over a thread (POST .../ui-stream): what useChat sends, posted
// through the same answer run as .../messages/stream (streams.openAnswer around create or
// regenerate), and that run's events told as UI message stream parts. The stored thread is the truth: of the client's
// messages only the last is read, and the state parts are computed from the thread's state.
import { uiMessageText, type contracts, type InputOf, type JsonObject, type JsonPatch, type UiStreamPart } from '@ai-threads/contracts';
import type { Principal } from '../auth/auth.service.js';
import { AppError } from '../errors.js';
import type { LoggedEvent } from '../messages/answer-runs.js';
import type { AnswerHooks, MessagesService } from '../messages/messages.service.js';
import type { OpenOptions, StreamsService } from '../messages/streams.service.js';
import { applyJsonPatch, jsonEqual } from '../state/json-patch.js';

export interface UiStreamServiceDeps {
  streams: StreamsService;
  messages: MessagesService;
}

type Input = InputOf<typeof contracts.protocols.uiStream>;

/** One part, with the id of the run's event it tells (the tRPC face's `tracked` id). */
export interface Streamed {
  id: string;
  event: UiStreamPart;
}

const notAnAnswer = () => AppError.field('messageId', 'The messageId field must be the id of an assistant message of this thread.');

export function createUiStreamService(deps: UiStreamServiceDeps) {
  /** 422 unless `messageId` is an assistant message of the thread (whose 404 was checked already). */
  async function assertAnswer(principal: Principal, threadId: number, messageId: number): Promise<void> {
    const message = await deps.messages.get(principal, { threadId, messageId }).catch((error: unknown) => {
      throw error instanceof AppError && error.code === 'not_found' ? notAnAnswer() : error;
    });
    if (message.role !== 'assistant') throw notAnAnswer();
  }

  return {
    /**
     * Posts the last message (or regenerates `messageId`) and resolves with the parts once the
     * answer is accepted; rejects with the refusal otherwise (404 first, as every answering call).
     */
    async open(principal: Principal, input: Input, options: OpenOptions): Promise<AsyncIterable<Streamed>> {
      const { threadId, expected_state_version } = input;
      // The state the answer starts from, as the answer began with it (the one sent is the
      // thread's by then): the state parts are exact. A replayed answer began earlier: none.
      let start: JsonObject | null | undefined;
      const begun = (hooks: AnswerHooks): AnswerHooks => ({ ...hooks, onBegun: (b) => (start = b.state) });
      if (input.trigger === 'regenerate-message') {
        const messageId = Number(input.messageId);
        await assertAnswer(principal, threadId, messageId);
        const events = await deps.streams.openAnswer(principal, threadId, options, (hooks) =>
          deps.messages.regenerate(principal, { threadId, messageId, expected_state_version }, begun(hooks)),
        );
        return tell(events, () => start, undefined);
      }
      const said = uiMessageText(input.messages.at(-1));
      // The contract has refused this already; the check keeps the types honest.
      if ('problem' in said) throw AppError.field('messages', `The messages field ${said.problem}.`);
      const events = await deps.streams.openAnswer(principal, threadId, options, (hooks) =>
        deps.messages.create(
          principal,
          { threadId, content: said.text, ...(input.state ? { state: input.state } : {}), expected_state_version },
          begun(hooks),
        ),
      );
      return tell(events, () => start, input.state);
    },
  };
}

/** `patch` applied to `state`, or undefined when it does not apply (the state changed meanwhile). */
function patched(state: JsonObject | null, patch: JsonPatch): JsonObject | null | undefined {
  try {
    return applyJsonPatch(state, patch) as JsonObject | null;
  } catch {
    return undefined;
  }
}

/**
 * The run's events as UI message stream parts. `start` is the state the AI starts from; `sent`
 * the state the client sent (what it holds, as far as we know). Each applied change is a
 * `data-state` with the whole state; in review mode each proposed change a `data-proposal` with
 * the proposal so far. At the end the stored reply is the truth: a last `data-state` when its
 * state is not what the client holds, the stored proposal, then `finish` with the stored ids.
 */
async function* tell(
  events: AsyncIterable<LoggedEvent>,
  start: () => JsonObject | null | undefined,
  sent: JsonObject | undefined,
): AsyncGenerator<Streamed> {
  let current: JsonObject | null | undefined;
  let clientHolds: JsonObject | null | undefined = sent;
  let proposal: { patch: JsonPatch; state: JsonObject | null | undefined } | undefined;
  let textId = 'text';
  let textOpen = false;
  for await (const { id, event: logged } of events) {
    const part = (event: UiStreamPart): Streamed => ({ id, event });
    switch (logged.event) {
      case 'message.created':
        current = start();
        textId = `text-${logged.data.id}`;
        yield part({ type: 'start' });
        break;
      case 'response.delta':
        if (!textOpen) yield part({ type: 'text-start', id: textId });
        textOpen = true;
        yield part({ type: 'text-delta', id: textId, delta: logged.data.delta });
        break;
      case 'state.delta': {
        const { patch } = logged.data;
        if (logged.data.proposed) {
          const base = proposal ? proposal.state : current;
          const next = { patch: [...(proposal?.patch ?? []), ...patch], state: base === undefined ? undefined : patched(base, patch) };
          proposal = next;
          if (next.state) yield part({ type: 'data-proposal', id: 'proposal', data: { message_id: null, patch: next.patch, proposed_state: next.state } });
        } else {
          current = current === undefined ? undefined : patched(current, patch);
          if (current !== undefined) {
            clientHolds = current;
            yield part({ type: 'data-state', id: 'state', data: current });
          }
        }
        break;
      }
      case 'response.completed': {
        const { createdMessage, responseMessage } = logged.data;
        // A replayed answer (Idempotency-Key) streamed no text: it is told whole.
        if (!textOpen && responseMessage.content !== '') {
          yield part({ type: 'text-start', id: textId });
          yield part({ type: 'text-delta', id: textId, delta: responseMessage.content });
          textOpen = true;
        }
        if (textOpen) yield part({ type: 'text-end', id: textId });
        const stored = responseMessage.updated_state;
        if (clientHolds === undefined || !jsonEqual(stored, clientHolds)) yield part({ type: 'data-state', id: 'state', data: stored });
        if (responseMessage.proposal) {
          const { patch, proposed_state } = responseMessage.proposal;
          yield part({ type: 'data-proposal', id: 'proposal', data: { message_id: responseMessage.id, patch, proposed_state } });
        }
        yield part({
          type: 'finish',
          finishReason: 'stop',
          messageMetadata: {
            created_message_id: createdMessage.id,
            response_message_id: responseMessage.id,
            state_version: responseMessage.state_version,
          },
        });
        return;
      }
      case 'error':
        yield part({ type: 'error', errorText: logged.data.message });
        return;
    }
  }
}
