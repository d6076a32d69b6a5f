// The SDK's server-sent events parser on its own: line terminators, chunk boundaries anywhere
// (inside CRLF and inside multi-byte characters), comments, multi-line data, ids and a BOM.
import { describe, expect, it } from 'vitest';
import { LineDecoder, SSEStreamDecoder, type ServerSentEvent } from '../../client-sdk/src/index.js';

const encoder = new TextEncoder();

/** Feeds `bytes` to a decoder in the given pieces and returns every event. */
function parse(bytes: Uint8Array, cuts: number[] = []): ServerSentEvent[] {
  const decoder = new SSEStreamDecoder();
  const events: ServerSentEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  events.push(...decoder.end());
  return events;
}

/** Every way of cutting `bytes` in two, plus byte by byte: the events must not change. */
function expectSameWhateverTheChunks(text: string, expected: Array<Partial<ServerSentEvent>>) {
  const bytes = encoder.encode(text);
  const whole = parse(bytes);
  expect(whole).toEqual(expected.map((e) => expect.objectContaining(e)));
  for (let cut = 1; cut < bytes.length; cut += 1) expect(parse(bytes, [cut])).toEqual(whole);
  expect(parse(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))).toEqual(whole);
}

describe('SSE parsing', () => {
  it("reads the server's frames: id, event, JSON data, comments in between", () => {
    const text =
      ': stream open\n\n' +
      'id: 7:0\nevent: message.created\ndata: {"id":7,"content":"Hello!"}\n\n' +
      ': keep-alive\n\n' +
      'id: 7:1\nevent: response.delta\ndata: {"delta":"Hi"}\n\n' +
      'id: 7:2\nevent: response.completed\ndata: {"done":true}\n\n';
    expectSameWhateverTheChunks(text, [
      { id: '7:0', event: 'message.created', data: '{"id":7,"content":"Hello!"}' },
      { id: '7:1', event: 'response.delta', data: '{"delta":"Hi"}' },
      { id: '7:2', event: 'response.completed', data: '{"done":true}' },
    ]);
  });

  it('joins multi-line data with LF and accepts CRLF and CR line ends', () => {
    expectSameWhateverTheChunks('event: a\r\ndata: one\r\ndata:two\r\ndata\r\n\r\nevent: b\rdata: x\r\r', [
      { event: 'a', data: 'one\ntwo\n' },
      { event: 'b', data: 'x' },
    ]);
  });

  it('keeps multi-byte characters split across chunks, and drops a leading BOM', () => {
    expectSameWhateverTheChunks('\uFEFFdata: {"delta":"héllo 👋 — 日本"}\n\n', [
      { event: 'message', data: '{"delta":"héllo 👋 — 日本"}', id: null },
    ]);
  });

  it('keeps the last id for later events, ignores unknown fields and data-less events', () => {
    expectSameWhateverTheChunks('id: 1\nfoo: bar\nevent: x\n\ndata: a\n\nretry: 1500\ndata: b\nid: 2\n\n', [
      { event: 'message', data: 'a', id: '1' },
      { event: 'message', data: 'b', id: '2', retry: 1500 },
    ]);
  });

  it('drops an event cut off before its blank line, as EventSource does', () => {
    expect(parse(encoder.encode('data: complete\n\ndata: cut off'))).toEqual([
      { event: 'message', data: 'complete', id: null, retry: null },
    ]);
  });

  it('splits lines however the text arrives', () => {
    const lines = new LineDecoder();
    expect([...lines.decode('a\r'), ...lines.decode('\nb'), ...lines.decode('\r'), ...lines.decode('c\n'), ...lines.flush()]).toEqual([
      'a',
      'b',
      'c',
    ]);
  });
});
