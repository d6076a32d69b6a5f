// Statements built once (rawStatement, mappedStatement) are sent with their layout taken out
// (compactSql): the text the driver hashes on every call is shorter, and the statement the same.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { compactSql, createDatabase, rawStatement } from '@ai-threads/db';

describe('compactSql', () => {
  it('makes each run of whitespace one space and drops -- comments', () => {
    expect(compactSql('\n    select a,\n\t  b -- the second\n      from t\r\n   where a = $1  ')).toBe('select a, b from t where a = $1');
  });

  it('keeps quoted literals and identifiers as written, doubled quotes included', () => {
    const text = `select 'two  spaces', 'it''s  -- not a comment', "odd  name" from t where x = 'a\n  b'`;
    expect(compactSql(`  ${text.replace(/, /g, ',\n     ')}  `)).toBe(text.replace(/, /g, ', '));
  });

  it('leaves a text with a dollar-quoted string or a backslash escape as it is', () => {
    const dollar = 'select $$a   b$$';
    const escaped = "select E'a\\'   b'";
    expect(compactSql(dollar)).toBe(dollar);
    expect(compactSql(escaped)).toBe(escaped);
  });

  it('refuses an unterminated quote instead of guessing', () => {
    expect(() => compactSql("select 'open")).toThrow(/unterminated/);
  });

  it('runs the compacted statement with the same answer', async () => {
    const database = await createDatabase({ url: process.env['DATABASE_URL'], pgliteDir: 'memory://', migrate: false });
    try {
      const statement = rawStatement(sql`
        select ${sql.placeholder('text')}::text as text,   -- the value itself
               'a  b' as literal,
               length(${sql.placeholder('text')}::text) as "length  of it"`);
      const [row] = await statement(database.db, { text: 'x  y' });
      expect(row).toEqual({ text: 'x  y', literal: 'a  b', 'length  of it': 4 });
    } finally {
      await database.close();
    }
  });
});
