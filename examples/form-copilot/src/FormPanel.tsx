// The form, bound to the thread's state: every field reads its place in the state and reports the
// person's edits. Fields the AI just changed carry a highlight (and say so to screen readers) until
// the person edits them or sends the next message.
import { useId, type ReactNode } from 'react';
import type { State } from './api';
import { FORM, isItem, type Field, type Item } from './fields';
import { touches, valueAt } from './json';
import type { Highlight } from './ThreadView';

interface Props {
  state: State;
  version: number | null;
  status: 'saved' | 'unsaved' | 'saving';
  highlights: ReadonlyMap<string, Highlight>;
  onEdit: (pointer: string, value: unknown, when: 'now' | 'after-typing') => void;
  onLeaveField: () => void;
}

function highlightOf(highlights: ReadonlyMap<string, Highlight>, pointer: string): Highlight | undefined {
  for (const [path, kind] of highlights) if (touches(path, pointer)) return kind;
  return undefined;
}

const STATUS_TEXT = { saved: 'saved', unsaved: 'not saved yet', saving: 'saving…' } as const;

export function FormPanel({ state, version, status, highlights, onEdit, onLeaveField }: Props) {
  const titleId = useId();
  return (
    <section className="panel form-panel" aria-labelledby={titleId}>
      <div className="panel-head">
        <h2 id={titleId}>The form</h2>
        <p className="version" role="status" data-testid="form-version">
          {version === null ? 'Loading…' : `Version ${version} · ${STATUS_TEXT[status]}`}
        </p>
      </div>
      <form className="copilot-form" onSubmit={(e) => e.preventDefault()} noValidate>
        {FORM.map((group) => (
          <fieldset key={group.legend}>
            <legend>{group.legend}</legend>
            {group.fields.map((field) => (
              <FieldInput
                key={field.pointer}
                field={field}
                value={valueAt(state, field.pointer)}
                highlight={highlightOf(highlights, field.pointer)}
                onEdit={onEdit}
                onLeave={onLeaveField}
              />
            ))}
          </fieldset>
        ))}
      </form>
    </section>
  );
}

interface FieldProps {
  field: Field;
  value: unknown;
  highlight: Highlight | undefined;
  onEdit: Props['onEdit'];
  onLeave: () => void;
}

const HIGHLIGHT_TEXT: Record<Highlight, string> = { ai: 'changed by the AI', proposed: 'the AI proposes a change' };

function FieldInput({ field, value, highlight, onEdit, onLeave }: FieldProps) {
  const id = useId();
  const note = highlight ? (
    <span className="ai-note" id={`${id}-note`}>
      {HIGHLIGHT_TEXT[highlight]}
    </span>
  ) : null;
  const common = {
    id,
    name: field.pointer,
    'aria-describedby': highlight ? `${id}-note` : undefined,
    onBlur: onLeave,
  };
  const className = `field field-${field.kind}${highlight ? ` highlight-${highlight}` : ''}`;

  if (field.kind === 'checkbox') {
    return (
      <div className={className} data-pointer={field.pointer} data-highlight={highlight}>
        <input type="checkbox" {...common} checked={value === true} onChange={(e) => onEdit(field.pointer, e.target.checked, 'now')} />
        <label htmlFor={id}>{field.label}</label>
        {note}
      </div>
    );
  }
  if (field.kind === 'items') {
    return <ItemsInput field={field} value={value} className={className} highlight={highlight} note={note} onEdit={onEdit} />;
  }
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  return (
    <div className={className} data-pointer={field.pointer} data-highlight={highlight}>
      <label htmlFor={id}>{field.label}</label>
      {field.kind === 'select' ? (
        <select {...common} value={text} onChange={(e) => onEdit(field.pointer, e.target.value, 'now')}>
          <option value="">Choose…</option>
          {/* A value the AI set that is not an option is still shown, not silently dropped. */}
          {text && !field.options?.includes(text) && <option value={text}>{text}</option>}
          {field.options?.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      ) : field.kind === 'textarea' ? (
        <textarea {...common} rows={3} value={text} onChange={(e) => onEdit(field.pointer, e.target.value, 'after-typing')} />
      ) : (
        <input
          {...common}
          type={field.kind}
          autoComplete={field.autoComplete}
          value={text}
          onChange={(e) => onEdit(field.pointer, e.target.value, 'after-typing')}
        />
      )}
      {note}
    </div>
  );
}

interface ItemsProps {
  field: Field;
  value: unknown;
  className: string;
  highlight: Highlight | undefined;
  note: ReactNode;
  onEdit: Props['onEdit'];
}

/** The list of items: a row per item (name, quantity, remove), and a button to add one. */
function ItemsInput({ field, value, className, highlight, note, onEdit }: ItemsProps) {
  const id = useId();
  const items: Item[] = Array.isArray(value) ? value.filter(isItem) : [];
  const save = (next: Item[], when: 'now' | 'after-typing') => onEdit(field.pointer, next, when);
  const change = (index: number, patch: Partial<Item>, when: 'now' | 'after-typing') =>
    save(items.map((item, i) => (i === index ? { ...item, ...patch } : item)), when);
  return (
    <fieldset className={className} data-pointer={field.pointer} data-highlight={highlight} aria-describedby={`${id}-hint`}>
      <legend>{field.label}</legend>
      <p className="hint" id={`${id}-hint`}>
        {field.hint}
      </p>
      {note}
      <ul className="items">
        {items.map((item, index) => (
          <li key={index}>
            <label>
              <span className="visually-hidden">Item {index + 1} name</span>
              <input value={item.name} onChange={(e) => change(index, { name: e.target.value }, 'after-typing')} placeholder="Item" />
            </label>
            <label>
              <span className="visually-hidden">Item {index + 1} quantity</span>
              <input
                type="number"
                min={1}
                value={item.quantity}
                onChange={(e) => change(index, { quantity: Math.max(1, Number(e.target.value) || 1) }, 'after-typing')}
              />
            </label>
            <button type="button" className="secondary" onClick={() => save(items.filter((_, i) => i !== index), 'now')}>
              Remove<span className="visually-hidden"> item {index + 1}</span>
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="secondary" onClick={() => save([...items, { name: '', quantity: 1 }], 'now')}>
        Add an item
      </button>
    </fieldset>
  );
}
