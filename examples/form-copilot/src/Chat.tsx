// The conversation on the thread's current branch: the messages, the answer streaming in, a
// "‹ 2/3 ›" picker where a message has siblings (edits and regenerated answers), regenerate on
// answers, edit on the person's messages, and the box to write the next message.
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Message } from './api';
import { MAX_MESSAGE_CHARACTERS } from './errors';
import type { Streaming } from './ThreadView';

interface Props {
  messages: readonly Message[];
  streaming: Streaming | null;
  onSend: (content: string, parentId?: number | null) => Promise<void>;
  onRegenerate: (message: Message) => Promise<void>;
  onSwitch: (message: Message, step: -1 | 1) => Promise<void>;
  /** Counts the messages the service stored: the box empties then, and keeps its text on a refusal. */
  storedCount: number;
}

export function Chat({ messages, streaming, onSend, onRegenerate, onSwitch, storedCount }: Props) {
  const titleId = useId();
  const logRef = useRef<HTMLOListElement>(null);
  const busy = streaming !== null;

  // While a reply streams, the old answer it replaces (regenerate) and anything after it leave the screen.
  const cut = streaming?.regenerating ?? null;
  const cutIndex = cut === null ? -1 : messages.findIndex((m) => m.id === cut);
  const shown = cutIndex === -1 ? messages : messages.slice(0, cutIndex);
  const streamedUser = streaming?.user && !shown.some((m) => m.id === streaming.user?.id) ? streaming.user : null;

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [messages, streaming]);

  return (
    <section className="panel chat" aria-labelledby={titleId}>
      <h2 id={titleId}>Chat</h2>
      <ol className="messages" ref={logRef} aria-live="polite" aria-relevant="additions text">
        {shown.length === 0 && !streaming && (
          <li className="hint">
            Ask the copilot to fill in the form, for example <q>set form.color to blue</q>.
          </li>
        )}
        {shown.map((message) => (
          <MessageItem key={message.id} message={message} busy={busy} onSend={onSend} onRegenerate={onRegenerate} onSwitch={onSwitch} />
        ))}
        {streamedUser && (
          <li className="message user">
            <p className="content">{streamedUser.content}</p>
          </li>
        )}
        {streaming && (
          <li className="message assistant streaming" aria-busy="true">
            <p className="content">{streaming.text || 'Thinking…'}</p>
          </li>
        )}
      </ol>
      <Composer busy={busy} storedCount={storedCount} onSend={(content) => onSend(content)} />
    </section>
  );
}

interface ItemProps {
  message: Message;
  busy: boolean;
  onSend: Props['onSend'];
  onRegenerate: Props['onRegenerate'];
  onSwitch: Props['onSwitch'];
}

const STATUS_NOTE: Partial<Record<Message['status'], string>> = {
  failed: 'Not answered: the AI failed.',
  cancelled: 'Cancelled.',
  pending: 'Being answered…',
};

function MessageItem({ message, busy, onSend, onRegenerate, onSwitch }: ItemProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const isUser = message.role === 'user';
  const who = isUser ? 'You' : 'AI';
  const note = STATUS_NOTE[message.status] ?? (message.error ? message.error : undefined);
  const proposal = message.proposal;

  const submitEdit = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim()) return;
    setEditing(false);
    // An edit is a new message after the edited one's parent: a sibling of it.
    await onSend(draft, message.parent_id);
  };

  return (
    <li className={`message ${message.role}`} data-message-id={message.id}>
      <span className="visually-hidden">{who}: </span>
      {editing ? (
        <form className="edit" onSubmit={(e) => void submitEdit(e)}>
          <label>
            Edit your message
            <textarea value={draft} onChange={(e) => setDraft(e.target.value)} rows={3} autoFocus />
          </label>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Send edit
            </button>
            <button type="button" className="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p className="content">{message.content}</p>
      )}
      {note && <p className="note">{note}</p>}
      {proposal && proposal.status !== 'pending' && <p className="note">Proposal {proposal.status}.</p>}
      <div className="actions">
        {message.sibling_count > 1 && <SiblingPicker message={message} busy={busy} onSwitch={onSwitch} />}
        {isUser && !editing && (
          <button type="button" className="secondary" disabled={busy} onClick={() => setEditing(true)}>
            Edit<span className="visually-hidden"> this message</span>
          </button>
        )}
        {(!isUser || message.status === 'failed') && (
          <button type="button" className="secondary" disabled={busy} onClick={() => void onRegenerate(message)}>
            {isUser ? 'Try again' : 'Regenerate'}
          </button>
        )}
      </div>
    </li>
  );
}

function SiblingPicker({ message, busy, onSwitch }: { message: Message; busy: boolean; onSwitch: Props['onSwitch'] }) {
  const kind = message.role === 'user' ? 'version of this message' : 'answer';
  const position = `${message.sibling_index + 1}/${message.sibling_count}`;
  return (
    <span className="picker" role="group" aria-label={`${kind} ${position}`}>
      <button
        type="button"
        className="secondary"
        aria-label={`Previous ${kind}`}
        disabled={busy || message.sibling_index === 0}
        onClick={() => void onSwitch(message, -1)}
      >
        ‹
      </button>
      <span className="position">{position}</span>
      <button
        type="button"
        className="secondary"
        aria-label={`Next ${kind}`}
        disabled={busy || message.sibling_index + 1 >= message.sibling_count}
        onClick={() => void onSwitch(message, 1)}
      >
        ›
      </button>
    </span>
  );
}

interface ComposerProps {
  busy: boolean;
  storedCount: number;
  onSend: (content: string) => Promise<void>;
}

function Composer({ busy, storedCount, onSend }: ComposerProps) {
  const [content, setContent] = useState('');
  useEffect(() => setContent(''), [storedCount]);
  const counterId = useId();
  const length = [...content].length;
  const over = length > MAX_MESSAGE_CHARACTERS;

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (busy || !content.trim()) return;
    await onSend(content);
  };
  // Enter sends, Shift+Enter starts a new line: as in most chat apps.
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) void submit(event);
  };

  return (
    <form className="composer" onSubmit={(e) => void submit(e)}>
      <label>
        Message to the copilot
        <textarea
          value={content}
          onChange={(e) => setContent(e.target.value)}
          onKeyDown={onKeyDown}
          rows={3}
          placeholder="set form.color to blue"
          aria-describedby={counterId}
        />
      </label>
      <div className="composer-foot">
        <span id={counterId} className={over ? 'counter over' : 'counter'}>
          {length.toLocaleString('en')} / {MAX_MESSAGE_CHARACTERS.toLocaleString('en')} characters
        </span>
        <button type="submit" disabled={busy || !content.trim()}>
          {busy ? 'Answering…' : 'Send'}
        </button>
      </div>
    </form>
  );
}
