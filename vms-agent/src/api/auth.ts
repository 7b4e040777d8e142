/**
 * Bearer tokens. A token is shown once when created; the store keeps only
 * its SHA-256, so a leaked database does not leak working tokens.
 */
import { createHash } from 'node:crypto';
import type { RandomBytes } from '@backchannel/proto';

export const TOKEN_PREFIX = 'bct_';
/** "bct_" and the base64url of 32 random bytes. */
const TOKEN_SHAPE = /^bct_[A-Za-z0-9_-]{43}$/;

export function newToken(randomBytes: RandomBytes): string {
  return TOKEN_PREFIX + Buffer.from(randomBytes(32)).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What an Authorization header holds: a token, nothing, or something that cannot be one (with why). */
export type BearerResult = { kind: 'token'; token: string } | { kind: 'missing' } | { kind: 'malformed'; why: string };

/**
 * Reads `Authorization: Bearer TOKEN`. Tokens are always "bct_" and 43
 * base64url characters (newToken); anything else is called malformed, with
 * what is wrong, so a client that sends a truncated or quoted token, or
 * another scheme, learns that instead of "missing bearer token".
 */
export function readBearer(header: string | undefined): BearerResult {
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  const m = /^(\S+)(?:\s+(.*))?$/s.exec(header.trim());
  const scheme = m?.[1] ?? '';
  const value = (m?.[2] ?? '').trim();
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'malformed', why: `the Authorization scheme is "${scheme.slice(0, 16)}", not Bearer` };
  if (value === '') return { kind: 'malformed', why: 'the Authorization header says Bearer but carries no token' };
  if (!TOKEN_SHAPE.test(value)) {
    const hint = value.startsWith(TOKEN_PREFIX) ? `it is ${value.length} characters or has characters outside base64url; a token is ${TOKEN_PREFIX.length + 43}` : `tokens begin with "${TOKEN_PREFIX}"`;
    return { kind: 'malformed', why: `the bearer token is not a vms-agent token (${hint})` };
  }
  return { kind: 'token', token: value };
}
