// Review mode: the AI's proposal as a per-field diff (now → proposed), with accept or reject for
// each field and for all. The person's choices are applied in one call: accept with the accepted
// fields' paths (the service applies only those), or reject when none is accepted.
import { useId, useState } from 'react';
import type { Message, State } from './api';
import { display, labelOf } from './fields';
import { valueAt } from './json';

type Choice = 'accept' | 'reject';

interface Props {
  message: Message;
  state: State;
  onDecide: (accepted: string[] | 'all' | 'none') => Promise<void>;
}

export function ReviewPanel({ message, state, onDecide }: Props) {
  const titleId = useId();
  const [choices, setChoices] = useState<Record<string, Choice>>({});
  const [busy, setBusy] = useState(false);
  const proposal = message.proposal;
  if (!proposal) return null;
  const paths = [...new Set(proposal.patch.filter((op) => op.op !== 'test').map((op) => op.path))];
  const undecided = paths.filter((path) => !choices[path]).length;

  const decide = async (accepted: string[] | 'all' | 'none') => {
    setBusy(true);
    try {
      await onDecide(accepted);
    } finally {
      setBusy(false);
    }
  };
  const choose = (path: string, choice: Choice) => setChoices((current) => ({ ...current, [path]: choice }));

  return (
    <section className="panel review" aria-labelledby={titleId}>
      <h2 id={titleId}>The AI proposes changes</h2>
      <p className="hint">Nothing changes until you accept. Choose for each field, or for all at once.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Now</th>
            <th scope="col">Proposed</th>
            <th scope="col">Your choice</th>
          </tr>
        </thead>
        <tbody>
          {paths.map((path) => {
            const label = labelOf(path);
            return (
              <tr key={path} data-path={path}>
                <th scope="row">{label}</th>
                <td className="old">{display(valueAt(state, path))}</td>
                <td className="new">{display(valueAt(proposal.proposed_state, path))}</td>
                <td className="choice">
                  <button
                    type="button"
                    className="secondary"
                    aria-pressed={choices[path] === 'accept'}
                    aria-label={`Accept ${label}`}
                    onClick={() => choose(path, 'accept')}
                  >
                    Accept
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    aria-pressed={choices[path] === 'reject'}
                    aria-label={`Reject ${label}`}
                    onClick={() => choose(path, 'reject')}
                  >
                    Reject
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="actions">
        <button
          type="button"
          disabled={busy || undecided > 0}
          onClick={() => void decide(paths.filter((path) => choices[path] === 'accept'))}
        >
          Apply my choices{undecided > 0 ? ` (${undecided} left)` : ''}
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void decide('all')}>
          Accept all
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void decide('none')}>
          Reject all
        </button>
      </div>
    </section>
  );
}
