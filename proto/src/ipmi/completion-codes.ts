/**
 * Completion codes. Generic ones are IPMI v2.0 §5.2 Table 5-2; the
 * command-specific ones name the command and section they belong to,
 * because the same value means different things for different commands.
 */
export const CompletionCode = {
  OK: 0x00,
  NODE_BUSY: 0xc0,
  INVALID_COMMAND: 0xc1,
  INVALID_FOR_LUN: 0xc2,
  TIMEOUT: 0xc3,
  OUT_OF_SPACE: 0xc4,
  RESERVATION_CANCELLED: 0xc5,
  REQUEST_DATA_TRUNCATED: 0xc6,
  REQUEST_DATA_LENGTH_INVALID: 0xc7,
  REQUEST_DATA_FIELD_LENGTH_EXCEEDED: 0xc8,
  PARAMETER_OUT_OF_RANGE: 0xc9,
  CANNOT_RETURN_REQUESTED_BYTES: 0xca,
  REQUESTED_DATA_NOT_PRESENT: 0xcb,
  INVALID_DATA_FIELD: 0xcc,
  ILLEGAL_COMMAND_FOR_TYPE: 0xcd,
  RESPONSE_NOT_PROVIDED: 0xce,
  DUPLICATE_REQUEST: 0xcf,
  SDR_REPOSITORY_UPDATING: 0xd0,
  FIRMWARE_UPDATING: 0xd1,
  INITIALIZATION_IN_PROGRESS: 0xd2,
  DESTINATION_UNAVAILABLE: 0xd3,
  INSUFFICIENT_PRIVILEGE: 0xd4,
  NOT_SUPPORTED_IN_PRESENT_STATE: 0xd5,
  SUBFUNCTION_DISABLED: 0xd6,
  UNSPECIFIED: 0xff,
} as const;

/** Command-specific completion codes (0x80..0xBE range, meaning depends on the command). */
export const CommandCompletionCode = {
  /** Set Session Privilege Level, §22.18: requested level not available for this user. */
  SET_PRIV_NOT_AVAILABLE_FOR_USER: 0x80,
  /** Set Session Privilege Level, §22.18: requested level exceeds user and/or channel limit. */
  SET_PRIV_EXCEEDS_LIMIT: 0x81,
  /** Set Session Privilege Level, §22.18: cannot disable user-level authentication. */
  SET_PRIV_CANNOT_DISABLE_USER_AUTH: 0x82,
  /** Close Session, §22.19: invalid session id in request. */
  CLOSE_INVALID_SESSION_ID: 0x87,
  /** Close Session, §22.19: invalid session handle in request. */
  CLOSE_INVALID_SESSION_HANDLE: 0x88,
  /** Get Session Challenge, §22.16: invalid user name. */
  CHALLENGE_INVALID_USER: 0x81,
  /** Get Session Challenge, §22.16: null user name not enabled. */
  CHALLENGE_NULL_USER_DISABLED: 0x82,
} as const;

const GENERIC_NAMES: Record<number, string> = {
  0x00: 'Command completed normally',
  0xc0: 'Node busy',
  0xc1: 'Invalid command',
  0xc2: 'Command invalid for given LUN',
  0xc3: 'Timeout while processing command',
  0xc4: 'Out of space',
  0xc5: 'Reservation cancelled or invalid reservation ID',
  0xc6: 'Request data truncated',
  0xc7: 'Request data length invalid',
  0xc8: 'Request data field length limit exceeded',
  0xc9: 'Parameter out of range',
  0xca: 'Cannot return number of requested data bytes',
  0xcb: 'Requested sensor, data, or record not present',
  0xcc: 'Invalid data field in request',
  0xcd: 'Command illegal for specified sensor or record type',
  0xce: 'Command response could not be provided',
  0xcf: 'Cannot execute duplicated request',
  0xd0: 'SDR repository in update mode',
  0xd1: 'Device in firmware update mode',
  0xd2: 'BMC initialization in progress',
  0xd3: 'Destination unavailable',
  0xd4: 'Insufficient privilege level',
  0xd5: 'Command not supported in present state',
  0xd6: 'Command sub-function has been disabled or is unavailable',
  0xff: 'Unspecified error',
};

/** Human text for a completion code (the ipmitool wording), for CLIs and logs. */
export function completionCodeName(cc: number): string {
  const name = GENERIC_NAMES[cc];
  if (name !== undefined) return name;
  if (cc >= 0x01 && cc <= 0x7e) return 'OEM completion code';
  if (cc >= 0x80 && cc <= 0xbe) return 'Command-specific completion code';
  return 'Unknown completion code';
}
