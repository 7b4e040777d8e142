/**
 * Bearer tokens. A token is shown once when created; the store keeps only
 * its SHA-256, so a leaked database does not leak working tokens.
 */
import { createHash } from 'node:crypto';
import type { RandomBytes } from '@backchannel/proto';

export const TOKEN_PREFIX = 'bct_';

export function newToken(randomBytes: RandomBytes): string {
  return TOKEN_PREFIX + Buffer.from(randomBytes(32)).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The token in an Authorization header, or undefined when there is none in the Bearer form. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ ]+([A-Za-z0-9_\-.~+/=]{8,256})$/i.exec(header?.trim() ?? '');
  return m?.[1];
}
