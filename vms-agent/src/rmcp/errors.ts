/**
 * Errors the RMCP+ client raises, each with a stable code callers switch on
 * (the link layer reconnects on TIMEOUT / SESSION_CLOSED, gives up and
 * alerts on AUTH_FAILED / NO_COMMON_SUITE).
 */
export type RmcpErrorCode =
  /** No answer after every retransmission (request) or every handshake restart (openSession). */
  | 'ERR_RMCP_TIMEOUT'
  /** Unknown user, wrong password, or the BMC's RAKP proof did not verify. */
  | 'ERR_RMCP_AUTH_FAILED'
  /** None of the acceptable cipher suites is offered or accepted by the BMC. */
  | 'ERR_RMCP_NO_COMMON_SUITE'
  /** The BMC refused the requested privilege level. */
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
