/**
 * Errors the service layer raises on purpose: a stable `code` (clients and
 * tests switch on it), a message a person can act on, and the HTTP status
 * the API answers with. Anything else that escapes is a bug and becomes a
 * 500 INTERNAL without details.
 */
export type ServiceErrorCode =
  | 'UNAUTHENTICATED'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'FORBIDDEN'
  | 'VALIDATION_FAILED'
  | 'HOST_NOT_FOUND'
  | 'COMMAND_NOT_FOUND'
  | 'ALERT_NOT_FOUND'
  | 'UNKNOWN_ACTION'
  | 'NOT_AWAITING_APPROVAL'
  | 'NOT_AN_APPROVER'
  | 'ALREADY_APPROVED'
  | 'CHALLENGE_EXPIRED'
  | 'INVALID_SIGNATURE'
  | 'NO_CUSTODIAL_KEY'
  | 'COMMAND_STATE_CONFLICT'
  | 'NO_STATUS_YET'
  | 'NOT_FOUND'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'INTERNAL';

const STATUS: Record<ServiceErrorCode, number> = {
  UNAUTHENTICATED: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  FORBIDDEN: 403,
  VALIDATION_FAILED: 400,
  HOST_NOT_FOUND: 404,
  COMMAND_NOT_FOUND: 404,
  ALERT_NOT_FOUND: 404,
  UNKNOWN_ACTION: 400,
  NOT_AWAITING_APPROVAL: 409,
  NOT_AN_APPROVER: 403,
  ALREADY_APPROVED: 409,
  CHALLENGE_EXPIRED: 409,
  INVALID_SIGNATURE: 400,
  NO_CUSTODIAL_KEY: 400,
  COMMAND_STATE_CONFLICT: 409,
  NO_STATUS_YET: 404,
  NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL: 500,
};

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  readonly statusCode: number;

  constructor(code: ServiceErrorCode, message: string) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.statusCode = STATUS[code];
  }
}
