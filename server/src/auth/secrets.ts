// Token secrets the way Lucia's guide teaches: `<prefix><id>.<secret>`, each half 120 bits of
// randomness; the id is the lookup key, only SHA-256(secret) is stored, compared in constant time.
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { decodeHex, encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';

export type TokenKind = 'session' | 'api_token';

const PREFIX: Record<TokenKind, string> = { session: 'sess_', api_token: 'ait_' };

function randomPart(): string {
  // 15 random bytes = 120 bits, 24 base32 characters.
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(15)));
}

/** SHA-256 of a secret's UTF-8 bytes (node's, native: every authenticated request checks one). */
function secretDigest(secret: string): Uint8Array {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function hashSecret(secret: string): string {
  return encodeHexLowerCase(secretDigest(secret));
}

export interface NewToken {
  id: string;
  secretHash: string;
  /** The whole token, shown to its owner once. */
  token: string;
}

export function newToken(kind: TokenKind): NewToken {
  const id = randomPart();
  const secret = randomPart();
  return { id, secretHash: hashSecret(secret), token: `${PREFIX[kind]}${id}.${secret}` };
}

export interface ParsedToken {
  kind: TokenKind;
  id: string;
  secret: string;
}

const SHAPE = /^(sess_|ait_)([a-z2-7]{24})\.([a-z2-7]{24})$/;

export function parseToken(token: string): ParsedToken | null {
  const match = SHAPE.exec(token);
  if (!match) return null;
  const kind: TokenKind = match[1] === 'sess_' ? 'session' : 'api_token';
  return { kind, id: match[2]!, secret: match[3]! };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  return constantTimeEqual(secretDigest(secret), decodeHex(storedHash));
}

/** How an API token is shown again after creation: the prefix and the start of its id. */
export function tokenPreview(id: string): string {
  return `${PREFIX.api_token}${id.slice(0, 8)}`;
}
