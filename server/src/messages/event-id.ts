// The ids of a stream's events, which a client sends back as Last-Event-ID to resume: each event
// an answer logs is `<user message id>:<sequence>`, and the final event read from the database
// (the answer ran elsewhere, or ended before the reconnect) is `<user message id>:done`.
const EVENT_ID = /^(\d{1,16}):(\d{1,9}|done)$/;

/** The id of the answer's event number `seq` (from 0), or of its final event read from the database. */
export function eventId(messageId: number, seq: number | 'done'): string {
  return `${messageId}:${seq}`;
}

/** What an event id names, or null when it is not one this service sends. */
export function parseEventId(id: string): { messageId: number; seq: number | 'done' } | null {
  const match = EVENT_ID.exec(id);
  if (!match) return null;
  return { messageId: Number(match[1]), seq: match[2] === 'done' ? 'done' : Number(match[2]) };
}
