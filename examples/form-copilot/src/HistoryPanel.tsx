// The state's history: every revision, newest first, with who made it (you, the AI, a revert...)
// and which fields it changed; any older version can be restored (a revert is a new revision, so
// nothing is ever lost).
import { useEffect, useId, useState } from 'react';
import { api, type Revision } from './api';
import { describeError } from './errors';
import { labelOf } from './fields';

const WHO: Record<Revision['source'], string> = {
  thread: 'Created with the thread',
  message: 'You, with a message',
  ai: 'AI',
  state: 'You',
  revert: 'Revert',
  proposal: 'AI proposal you accepted',
};

interface Props {
  threadId: number;
  refreshKey: number;
  currentVersion: number | null;
  onRevert: (version: number) => Promise<void>;
}

function changedFields(revision: Revision): string {
  const labels = [...new Set(revision.patch.filter((op) => op.op !== 'test').map((op) => labelOf(op.path)))];
  return labels.length === 0 ? 'no field' : labels.join(', ');
}

export function HistoryPanel({ threadId, refreshKey, currentVersion, onRevert }: Props) {
  const titleId = useId();
  const [revisions, setRevisions] = useState<Revision[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    api.threads.state.revisions.list.query({ threadId, limit: 50 }).then(
      (page) => {
        setRevisions(page.data);
        setProblem(null);
      },
      (error: unknown) => setProblem(describeError(error).text),
    );
  }, [threadId, refreshKey]);

  return (
    <section className="panel history" aria-labelledby={titleId}>
      <h2 id={titleId}>History</h2>
      {problem && <p className="problem">{problem}</p>}
      {revisions?.length === 0 && <p className="hint">No changes yet.</p>}
      <ol>
        {revisions?.map((revision) => (
          <li key={revision.version} data-version={revision.version} data-source={revision.source}>
            <span className="rev-version">v{revision.version}</span>
            <span className="rev-who">{WHO[revision.source]}</span>
            <span className="rev-what">{changedFields(revision)}</span>
            <time dateTime={revision.created_at}>{new Date(revision.created_at).toLocaleTimeString()}</time>
            {revision.version === currentVersion ? (
              <span className="rev-current">current</span>
            ) : (
              <button type="button" className="secondary" onClick={() => void onRevert(revision.version)}>
                Restore<span className="visually-hidden"> version {revision.version}</span>
              </button>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
