/**
 * From what a BMC answered during session establishment to the error the
 * caller sees: an RmcpAuthError (credentials, role, lockout, throttling:
 * do not retry at once) or an RmcpError (anything else).
 *
 * The mapping follows the IPMI v2.0 RMCP+ status codes (§13.24, Table 13-15),
 * not one BMC's habits; docs/rmcp.md "Authentication failures" has the table.
 */
import { RmcpStatus, rmcpStatusName } from '@backchannel/proto';
import { RmcpAuthError, RmcpError } from './errors.js';

/** Status codes that mean "not this name, or not at this role". */
const NAME_REFUSALS: ReadonlySet<number> = new Set([RmcpStatus.UNAUTHORIZED_NAME, RmcpStatus.INVALID_NAME_LENGTH]);
const ROLE_REFUSALS: ReadonlySet<number> = new Set([RmcpStatus.INVALID_ROLE, RmcpStatus.UNAUTHORIZED_ROLE]);
/** "Insufficient resources (at the requested role)": out of sessions, or the BMC is slowing logins down. */
const RESOURCE_REFUSALS: ReadonlySet<number> = new Set([RmcpStatus.INSUFFICIENT_RESOURCES, RmcpStatus.INSUFFICIENT_RESOURCES_FOR_ROLE]);

export type HandshakeStep = 'Open Session' | 'RAKP message 1' | 'RAKP message 3';

/** The error for a non-zero RMCP+ status in an Open Session Response, RAKP 2 or RAKP 4. */
export function refusalError(where: string, step: HandshakeStep, status: number): RmcpError {
  const text = `${where} refused ${step}: ${rmcpStatusName(status)} (0x${status.toString(16).padStart(2, '0')})`;
  if (NAME_REFUSALS.has(status)) {
    return new RmcpAuthError('refused-name-or-privilege', `${text}; the user name is unknown to the BMC, disabled, or locked out after failed logins`, { status });
  }
  if (ROLE_REFUSALS.has(status)) {
    return new RmcpAuthError('refused-name-or-privilege', `${text}; the user may not have the requested privilege`, { status, code: 'ERR_RMCP_PRIVILEGE_DENIED' });
  }
  if (RESOURCE_REFUSALS.has(status)) {
    return new RmcpAuthError('throttled', `${text}; the BMC is out of sessions or slowing logins down`, { status });
  }
  if (status === RmcpStatus.INVALID_INTEGRITY_CHECK_VALUE) {
    // In RAKP 4: the BMC could not verify our RAKP 3 proof, i.e. its password for the user is not ours.
    return new RmcpAuthError('bad-password', `${text}; wrong password for the user`, { status });
  }
  return new RmcpError('ERR_RMCP_HANDSHAKE_FAILED', text);
}

/** RAKP 2 carried a proof that does not verify with our password. */
export function badRakp2ProofError(where: string): RmcpAuthError {
  return new RmcpAuthError('bad-password', `${where}: the BMC's RAKP 2 authentication code does not verify: wrong password for the user`);
}

/** RAKP 4's integrity check value does not verify: the BMC derived another session key (a BMC key Kg is set, or not our password). */
export function badRakp4ProofError(where: string): RmcpAuthError {
  return new RmcpAuthError('bad-password', `${where}: the BMC's RAKP 4 integrity check value does not verify: wrong password, or the BMC uses a BMC key (Kg)`);
}

/** Set Session Privilege Level answered with a non-zero completion code (0x80 level not available to the user, 0x81 above the limit ...). */
export function privilegeRefusedError(where: string, privilege: number, cc: number): RmcpAuthError {
  return new RmcpAuthError('refused-name-or-privilege', `${where} refused privilege level ${privilege} (cc 0x${cc.toString(16).padStart(2, '0')})`, { code: 'ERR_RMCP_PRIVILEGE_DENIED' });
}
