// A server-sent events parser for fetch bodies, as the HTML standard's EventSource reads them:
// lines end in LF, CRLF or CR (also when a chunk ends between CR and LF), `:` lines are comments,
// `data` lines join with LF, `id` persists until changed, a UTF-8 BOM and multi-byte characters
// split across chunks are handled. Only web APIs (ReadableStream, TextDecoder).

export interface ServerSentEvent {
  /** The `event` field; `message` when absent. */
  event: string;
  data: string;
  /** The last `id` field seen on the stream (EventSource's "last event ID"). */
  id: string | null;
  retry: number | null;
}

/** Splits decoded text into lines, whatever the line terminator, across chunk boundaries. */
export class LineDecoder {
  #buffer = '';
  #afterCR = false;

  decode(text: string): string[] {
    if (this.#afterCR && text.startsWith('\n')) text = text.slice(1);
    if (text !== '') this.#afterCR = false;
    this.#buffer += text;
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i += 1) {
      const char = this.#buffer[i];
      if (char !== '\n' && char !== '\r') continue;
      lines.push(this.#buffer.slice(start, i));
      if (char === '\r') {
        if (i + 1 < this.#buffer.length) {
          if (this.#buffer[i + 1] === '\n') i += 1;
        } else {
          this.#afterCR = true;
        }
      }
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return lines;
  }

  /** The last line, when the stream ends without a terminator. */
  flush(): string[] {
    if (this.#buffer === '') return [];
    const rest = this.#buffer;
    this.#buffer = '';
    return [rest];
  }
}

/** Turns lines into events: fields accumulate until a blank line dispatches them. */
export class SSEDecoder {
  #data: string[] = [];
  #event: string | null = null;
  #id: string | null = null;
  #retry: number | null = null;

  /** The last event id, also after events that had none. */
  get lastEventId(): string | null {
    return this.#id;
  }

  decode(line: string): ServerSentEvent | null {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = null;
        return null;
      }
      const event: ServerSentEvent = {
        event: this.#event ?? 'message',
        data: this.#data.join('\n'),
        id: this.#id,
        retry: this.#retry,
      };
      this.#data = [];
      this.#event = null;
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
    }
    return null;
  }
}

/** Decodes byte chunks into events, carrying partial characters and lines over to the next chunk. */
export class SSEStreamDecoder {
  readonly #text = new TextDecoder('utf-8');
  readonly #lines = new LineDecoder();
  readonly #events = new SSEDecoder();

  get lastEventId(): string | null {
    return this.#events.lastEventId;
  }

  push(chunk: Uint8Array): ServerSentEvent[] {
    // TextDecoder drops a leading BOM itself.
    return this.#dispatch(this.#lines.decode(this.#text.decode(chunk, { stream: true })));
  }

  /** The stream ended: an event without its closing blank line is dropped, as EventSource does. */
  end(): ServerSentEvent[] {
    const lines = [...this.#lines.decode(this.#text.decode()), ...this.#lines.flush()];
    this.#dispatch(lines);
    return [];
  }

  #dispatch(lines: string[]): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    for (const line of lines) {
      const event = this.#events.decode(line);
      if (event) events.push(event);
    }
    return events;
  }
}
