/**
 * Errors the RMCP+ client raises, each with a stable code callers switch on
 * (the link layer reconnects on TIMEOUT / SESSION_CLOSED; on an
 * RmcpAuthError it stops and waits, see auth-failure.ts and docs/rmcp.md).
 */
export type RmcpErrorCode =
  /** No answer within the time budget (a request, a handshake step, or the whole session went silent). */
  | 'ERR_RMCP_TIMEOUT'
  /** Unknown user, wrong password, or the BMC's RAKP proof did not verify. Always an RmcpAuthError. */
  | 'ERR_RMCP_AUTH_FAILED'
  /** None of the acceptable cipher suites is offered or accepted by the BMC. */
  | 'ERR_RMCP_NO_COMMON_SUITE'
  /** The BMC refused the requested privilege level. Always an RmcpAuthError. */
  | 'ERR_RMCP_PRIVILEGE_DENIED'
  /** The BMC refused the session for another reason (RMCP+ status code in the message). */
  | 'ERR_RMCP_HANDSHAKE_FAILED'
  /** The session was closed (by close(), or after it stopped answering). */
  | 'ERR_RMCP_SESSION_CLOSED'
  /** Bad options: unknown privilege, suite without an implementation, password over 20 bytes ... */
  | 'ERR_RMCP_BAD_OPTIONS';

export class RmcpError extends Error {
  readonly code: RmcpErrorCode;

  constructor(code: RmcpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RmcpError';
    this.code = code;
  }
}

export function isRmcpError(err: unknown, code?: RmcpErrorCode): err is RmcpError {
  return err instanceof RmcpError && (code === undefined || err.code === code);
}

/**
 * Why the BMC would not let us in (docs/rmcp.md "Authentication failures"):
 * - `bad-password`: the BMC's RAKP 2 proof does not verify with our password
 *   (or the BMC says our RAKP 3 proof does not verify with its).
 * - `refused-name-or-privilege`: the BMC refused the user name or the role
 *   (IPMI v2.0 status 0x0D, 0x0C, 0x09, 0x0A; or Set Session Privilege Level refused).
 *   A standard BMC gives the same answer for a user it has locked out.
 * - `locked-out`: the BMC said the user is locked out (no standard IPMI status
 *   says so; kept for BMCs and layers that can tell).
 * - `throttled`: the BMC is out of sessions or slowing logins down
 *   (status 0x01, 0x0B): try again later, not at once.
 * Retrying any of them at once only adds failed logins at the BMC, which can
 * lock the user out: the caller waits `retryAfterMs` (when known) or long.
 */
export type RmcpAuthFailureKind = 'bad-password' | 'refused-name-or-privilege' | 'locked-out' | 'throttled';

export interface RmcpAuthErrorOptions {
  /** The RMCP+ status code the BMC answered with, when it answered one. */
  status?: number;
  /** How long the BMC asks us to wait, when it says so. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class RmcpAuthError extends RmcpError {
  readonly kind: RmcpAuthFailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: RmcpAuthFailureKind, message: string, options: RmcpAuthErrorOptions & { code?: 'ERR_RMCP_AUTH_FAILED' | 'ERR_RMCP_PRIVILEGE_DENIED' } = {}) {
    super(options.code ?? 'ERR_RMCP_AUTH_FAILED', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RmcpAuthError';
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isRmcpAuthError(err: unknown): err is RmcpAuthError {
  return err instanceof RmcpAuthError;
}
