// The form the copilot fills in: its fields, each bound to a place in the thread's state (a JSON
// Pointer under /form). Edit here to change the form; the screen, the highlights, the conflict and
// review screens all read this list.
type FieldKind = 'text' | 'email' | 'tel' | 'textarea' | 'select' | 'checkbox' | 'items';

export interface Field {
  pointer: string;
  label: string;
  kind: FieldKind;
  options?: readonly string[];
  hint?: string;
  autoComplete?: string;
}

export interface FieldGroup {
  legend: string;
  fields: readonly Field[];
}

export const FORM: readonly FieldGroup[] = [
  {
    legend: 'Contact',
    fields: [
      { pointer: '/form/name', label: 'Full name', kind: 'text', autoComplete: 'name' },
      { pointer: '/form/email', label: 'Email', kind: 'email', autoComplete: 'email' },
      { pointer: '/form/phone', label: 'Phone', kind: 'tel', autoComplete: 'tel' },
      { pointer: '/form/company', label: 'Company', kind: 'text', autoComplete: 'organization' },
      { pointer: '/form/role', label: 'Role', kind: 'select', options: ['developer', 'designer', 'manager', 'other'] },
    ],
  },
  {
    legend: 'Order',
    fields: [
      { pointer: '/form/color', label: 'Color', kind: 'select', options: ['red', 'green', 'blue', 'black', 'white'] },
      { pointer: '/form/size', label: 'Size', kind: 'select', options: ['S', 'M', 'L', 'XL'] },
      { pointer: '/form/items', label: 'Items', kind: 'items', hint: 'One line per item: a name and a quantity.' },
      { pointer: '/form/newsletter', label: 'Send me the newsletter', kind: 'checkbox' },
      { pointer: '/form/gift', label: 'This is a gift', kind: 'checkbox' },
    ],
  },
  {
    legend: 'Delivery address',
    fields: [
      { pointer: '/form/address/street', label: 'Street', kind: 'text', autoComplete: 'street-address' },
      { pointer: '/form/address/city', label: 'City', kind: 'text', autoComplete: 'address-level2' },
      { pointer: '/form/address/postcode', label: 'Postcode', kind: 'text', autoComplete: 'postal-code' },
      {
        pointer: '/form/address/country',
        label: 'Country',
        kind: 'select',
        options: ['France', 'Germany', 'Italy', 'Spain', 'United Kingdom', 'United States'],
      },
    ],
  },
  {
    legend: 'Notes',
    fields: [{ pointer: '/form/notes', label: 'Notes for the delivery', kind: 'textarea' }],
  },
];

export const FIELDS: readonly Field[] = FORM.flatMap((group) => group.fields);

/**
 * The label a person knows a place in the state by: a field's label, a group's legend when the
 * place holds several fields (`/form/address` for the address), else the pointer itself.
 */
export function labelOf(pointer: string): string {
  if (pointer === '' || pointer === '/form') return 'The whole form';
  const field = FIELDS.find((f) => f.pointer === pointer || pointer.startsWith(`${f.pointer}/`));
  if (field) return field.label;
  const group = FORM.find((g) => g.fields.some((f) => f.pointer.startsWith(`${pointer}/`)));
  return group ? group.legend : pointer;
}

/** How a value reads on the review and conflict screens. */
export function display(value: unknown): string {
  if (value === undefined || value === null || value === '') return '(empty)';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every(isItem)) return value.map((item) => `${item.quantity} × ${item.name}`).join(', ') || '(none)';
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).map(([key, inner]) => `${key}: ${display(inner)}`).join(', ') || '(empty)';
  }
  return JSON.stringify(value);
}

export interface Item {
  name: string;
  quantity: number;
}

export function isItem(value: unknown): value is Item {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)['name'] === 'string' &&
    typeof (value as Record<string, unknown>)['quantity'] === 'number'
  );
}
