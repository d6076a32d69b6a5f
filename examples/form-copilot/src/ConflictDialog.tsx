// The conflict screen: someone else saved the form (another tab, another person, the AI) after this
// page read it, so the service refused our save (412). Both versions are shown field by field, with
// which side changed what since the version we started from; the person picks, per field, and the
// chosen mix is saved on top of their version. Their version stays in the history either way, and
// nothing of ours is dropped without the person choosing so.
import { useEffect, useId, useRef, useState } from 'react';
import type { State, ThreadState } from './api';
import { display, FIELDS } from './fields';
import { jsonEqual, mergePatchAt, applyMergePatch, isObject, valueAt } from './json';

export interface Conflict {
  /** The state our edits started from. */
  base: State;
  /** That state with our edits. */
  mine: State;
  /** The state the service has now. */
  theirs: ThreadState;
}

type Side = 'mine' | 'theirs';

interface Row {
  pointer: string;
  label: string;
  mine: unknown;
  theirs: unknown;
  changedByMe: boolean;
  changedByThem: boolean;
}

function rowsOf({ base, mine, theirs }: Conflict): Row[] {
  return FIELDS.flatMap((field) => {
    const m = valueAt(mine, field.pointer);
    const t = valueAt(theirs.state, field.pointer);
    if (jsonEqual(m, t)) return [];
    const b = valueAt(base, field.pointer);
    return [{ pointer: field.pointer, label: field.label, mine: m, theirs: t, changedByMe: !jsonEqual(b, m), changedByThem: !jsonEqual(b, t) }];
  });
}

/** The merge patch that puts the chosen fields of ours on their state; null when none is ours. */
function patchOf(rows: Row[], choices: Record<string, Side>): State | null {
  let patch: unknown = null;
  for (const row of rows) {
    if (choices[row.pointer] !== 'mine') continue;
    patch = applyMergePatchKeepingNulls(patch, mergePatchAt(row.pointer, row.mine));
  }
  return isObject(patch) ? patch : null;
}

/** Combines two merge patches; a `null` (remove the field) must survive into the combined patch. */
function applyMergePatchKeepingNulls(a: unknown, b: State): unknown {
  const result: Record<string, unknown> = isObject(a) ? { ...a } : {};
  for (const [key, value] of Object.entries(b)) {
    result[key] = isObject(value) && isObject(result[key]) ? applyMergePatchKeepingNulls(result[key], value) : value;
  }
  return result;
}

interface Props {
  conflict: Conflict;
  onResolve: (patch: State | null) => void;
}

export function ConflictDialog({ conflict, onResolve }: Props) {
  const titleId = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const rows = rowsOf(conflict);
  // By default each field keeps the side that changed it; where both did, ours.
  const [choices, setChoices] = useState<Record<string, Side>>(() =>
    Object.fromEntries(rows.map((row) => [row.pointer, row.changedByMe ? 'mine' : 'theirs'])),
  );

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const choose = (side: Side) => setChoices(Object.fromEntries(rows.map((row) => [row.pointer, side])));
  const result = applyMergePatch(conflict.theirs.state ?? {}, patchOf(rows, choices) ?? {});

  return (
    <dialog
      ref={ref}
      className="conflict"
      aria-labelledby={titleId}
      // Escape must not close it: the person has to choose, or an edit would be lost.
      onCancel={(event) => event.preventDefault()}
    >
      <h2 id={titleId}>This form was changed somewhere else</h2>
      <p>
        While you were editing, the form was saved elsewhere (version {conflict.theirs.version}). Your changes are not lost: pick,
        field by field, which value to keep. Their version stays in the history whatever you choose.
      </p>
      {rows.length === 0 ? (
        <p>Both versions are the same: nothing to choose.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Your version</th>
              <th scope="col">Their version (v{conflict.theirs.version})</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.pointer} data-pointer={row.pointer}>
                <th scope="row">
                  {row.label}
                  {row.changedByMe && row.changedByThem && <span className="both"> (changed on both sides)</span>}
                </th>
                {(['mine', 'theirs'] as const).map((side) => (
                  <td key={side}>
                    <label className="inline">
                      <input
                        type="radio"
                        name={`conflict-${row.pointer}`}
                        checked={choices[row.pointer] === side}
                        onChange={() => setChoices((current) => ({ ...current, [row.pointer]: side }))}
                      />
                      <span className="visually-hidden">{side === 'mine' ? 'Keep yours for' : 'Keep theirs for'} {row.label}: </span>
                      {display(side === 'mine' ? row.mine : row.theirs)}
                      {(side === 'mine' ? row.changedByMe : row.changedByThem) && <span className="changed"> · changed</span>}
                    </label>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => choose('mine')}>
          All yours
        </button>
        <button type="button" className="secondary" onClick={() => choose('theirs')}>
          All theirs
        </button>
        <button
          type="button"
          onClick={() => {
            ref.current?.close();
            onResolve(patchOf(rows, choices));
          }}
        >
          Save this version
        </button>
      </div>
      <details>
        <summary>The result, as it will be saved</summary>
        <pre>{JSON.stringify(result, null, 2)}</pre>
      </details>
    </dialog>
  );
}
