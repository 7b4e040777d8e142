/**
 * What the `Idempotency-Key` header means for the API (store side:
 * store/idempotency-keys.ts). A client picks a fresh random key per
 * logical request and sends it again, unchanged, on every retry of that
 * request. Within the retention period, for the same principal:
 *
 * - the same key with the same request returns the first request's
 *   command and status, and nothing new is created or approved;
 * - the same key with a different request is refused (422
 *   IDEMPOTENCY_KEY_REUSED): the client has a bug, and guessing which
 *   request it meant would be worse.
 *
 * "The same request" is the operation and its canonical body (host,
 * domain, action and parameters for an issue; the command and the posted
 * signature for an approval), hashed with SHA-256. A request that failed
 * (4xx/5xx) stored nothing, so a retry of it runs again.
 */
import { createHash } from 'node:crypto';
import { ServiceError } from '../errors.js';

/** How long a key is remembered (documented in docs/api.md): longer than any client retries, short enough to keep the table small. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Visible ASCII, 1 to 255 characters (a UUID, a ULID, 32 hex digits all fit). */
const KEY_SYNTAX = /^[\x21-\x7e]{1,255}$/;

/** The header's key, or undefined when the client sent none; a malformed one is a clear 400. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw new ServiceError('VALIDATION_FAILED', 'send one Idempotency-Key header, not several');
  if (!KEY_SYNTAX.test(header)) {
    throw new ServiceError('VALIDATION_FAILED', `Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), got ${header.length} character(s); a random UUID is a good key`);
  }
  return header;
}

/** JSON with object keys sorted, so {a,b} and {b,a} hash alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(scope: string, request: unknown): string {
  return createHash('sha256').update(scope).update('\0').update(canonical(request)).digest('hex');
}

export function keyReused(key: string, firstScope: string, scope: string): ServiceError {
  const what = firstScope === scope ? 'a different request' : `another operation (${firstScope})`;
  return new ServiceError(
    'IDEMPOTENCY_KEY_REUSED',
    `Idempotency-Key ${JSON.stringify(key)} was already used by you for ${what} within the last ${IDEMPOTENCY_RETENTION_MS / 3_600_000} h; send a new key for a new request (retries of one request must repeat its body exactly)`,
  );
}
