// The person's threads, newest first, and the form that starts a new one (optionally in review
// mode, where the AI's changes wait for approval).
import { useEffect, useState, type FormEvent } from 'react';
import { api, type ThreadSummary } from './api';
import { describeError } from './errors';

interface Props {
  currentId: number | null;
  /** Changes when the open thread changed: the list is read again. */
  refreshKey: number;
  onOpen: (id: number) => void;
  onSignedOut: () => void;
}

export function ThreadList({ currentId, refreshKey, onOpen, onSignedOut }: Props) {
  const [threads, setThreads] = useState<ThreadSummary[] | null>(null);
  const [title, setTitle] = useState('');
  const [review, setReview] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const fail = (error: unknown) => {
    const described = describeError(error);
    if (described.status === 401) onSignedOut();
    setProblem(described.text);
  };

  useEffect(() => {
    api.threads.list.query({ limit: 50 }).then((page) => setThreads(page.data), fail);
    // Read again when another thread opens or the open one changes.
  }, [currentId, refreshKey]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    try {
      const thread = await api.threads.create.mutate({
        title: title.trim() || 'Order form',
        state: { form: {} },
        state_review: review ? 'review' : 'auto',
      });
      setTitle('');
      onOpen(thread.id);
    } catch (error) {
      fail(error);
    }
  };

  return (
    <nav className="threads" aria-label="Threads">
      <form className="new-thread" onSubmit={(event) => void create(event)}>
        <h2>New thread</h2>
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Order form" maxLength={200} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={review} onChange={(e) => setReview(e.target.checked)} />
          Review the AI&apos;s changes before they apply
        </label>
        <button type="submit">Create thread</button>
      </form>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      <h2>Your threads</h2>
      {threads === null ? (
        <p aria-busy="true">Loading…</p>
      ) : threads.length === 0 ? (
        <p className="hint">No threads yet.</p>
      ) : (
        <ul>
          {threads.map((thread) => (
            <li key={thread.id}>
              <a href={`#/threads/${thread.id}`} aria-current={thread.id === currentId ? 'page' : undefined}>
                <span className="title">{thread.title ?? `Thread ${thread.id}`}</span>
                <span className="meta">
                  {thread.message_count} messages · v{thread.state_version}
                  {thread.state_review === 'review' ? ' · review' : ''}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
