// The token counter the history window uses (server/src/ai/o200k.ts, compact tables) counts
// exactly what gpt-tokenizer, the counter it replaced, counts: on texts of every kind the service
// meets and on generated ones.
import fc from 'fast-check';
import { countTokens as referenceCount } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../server/src/ai/history.js';

/** How the service counted before: special-token strings as plain text. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const expected = (text: string) => referenceCount(text, PLAIN_TEXT);

const SAMPLES = [
  '',
  'hello world',
  'Could you summarise where we are, and suggest the next step for the plan?',
  "I'm sure they'll say it's FINE, WE'RE READY, you've seen it, he'd agree.",
  'a <|endoftext|> b <|im_start|>system<|im_end|> <|fim_prefix|>',
  '   leading spaces, trailing spaces   \n\n\n\ttabs\r\nand CRLF\r\n',
  'Numbers: 1, 12, 123, 1234, 12345678901234567890, 3.14159, -42, 1e10, ²³, ½',
  'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n',
  '{"form":{"field":"value","list":[1,2,3],"nested":{"deep":true,"none":null}}}',
  'Déjà vu: naïve façade, Straße, ÆØÅ, ŁÓDŹ, İstanbul, ǅungla',
  '日本語のテキストと中文文本和한국어 텍스트',
  'Русский текст, ελληνικά, עברית, العربية مع التطويل ـــ, हिन्दी पाठ',
  'Emoji 😀👍🏽🇫🇷👨‍👩‍👧‍👦 and combining e\u0301 a\u0308 zero\u200bwidth',
  'URLs https://example.com/a/b?c=d&e=f#g and paths /usr/local/bin/ and C:\\Windows\\',
  '!!!???...,,,;;;:::---___===+++***&&&^^^%%%$$$###@@@',
  'word '.repeat(500),
  'x'.repeat(2000),
  'ab'.repeat(700) + '\n'.repeat(30) + ' '.repeat(40),
  // Long pieces (merged with a heap, not the scan): runs of one letter, repeated patterns.
  JSON.stringify({ form: { note: 'é'.repeat(1_000) + 'x'.repeat(20_000) } }),
  'abcabcabd'.repeat(700),
  '日本語テキスト'.repeat(600),
];

describe('countTokens (o200k_base, compact tables)', () => {
  it.each(SAMPLES.map((text) => [text.slice(0, 40), text]))('counts %j as gpt-tokenizer does', (_, text) => {
    expect(countTokens(text)).toBe(expected(text));
  });

  it('counts generated text as gpt-tokenizer does', () => {
    const pieces = [
      ...'abcXYZ0123456789 \n\r\t.,;:!?\'"-_/\\()[]{}<>|@#$%^&*+=~`',
      'é',
      'ß',
      'Ω',
      'я',
      '日本',
      '한',
      '😀',
      '👍🏽',
      '\u0301',
      '\u200d',
      '\u00a0',
      'ـ',
      'ि',
      '’',
      '…',
      '<|endoftext|>',
      "'s",
      "'LL",
      'the',
      ' The',
      '1234567',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 80 }), (parts) => {
        const text = parts.join('');
        expect(countTokens(text)).toBe(expected(text));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(countTokens(text)).toBe(expected(text));
      }),
      { numRuns: 2000 },
    );
    const letters = ['a', 'b', 'x', 'é', 'ab', 'the', 'ing', 'er', 'ص'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...letters), { minLength: 40, maxLength: 600 }), (parts) => {
        const text = parts.join('');
        expect(countTokens(text)).toBe(expected(text));
      }),
      { numRuns: 300 },
    );
  });
});
