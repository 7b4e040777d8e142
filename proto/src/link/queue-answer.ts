/**
 * Reading an answer to an OEM queue command, shared by the link core and the
 * one-shot client: a completion code other than success, a body that does
 * not decode, or another IANA is a QueueHopError (with the cc, so a caller
 * can tell a fenced producer or a privilege problem from the rest).
 */
import { WireError } from '../errors.js';
import { OemCompletion } from '../oem/constants.js';

export type QueueHopErrorCode = 'ERR_COMPLETION' | 'ERR_IANA' | 'ERR_QUEUE' | 'ERR_MALFORMED' | 'ERR_STATE';

/** An answer the link cannot go on from: the driver treats it as a transport failure (and may look at `cc`). */
export class QueueHopError extends Error {
  readonly code: QueueHopErrorCode;
  readonly cc: number | undefined;
  constructor(code: QueueHopErrorCode, message: string, cc?: number) {
    super(message);
    this.name = 'QueueHopError';
    this.code = code;
    this.cc = cc;
  }
}

const hex = (cc: number) => `0x${cc.toString(16).padStart(2, '0')}`;

export function decodeQueueAnswer<T extends { iana: number }>(iana: number, what: string, r: { cc: number; data: Uint8Array }, decode: (d: Uint8Array) => T): T {
  if (r.cc !== OemCompletion.Ok) throw new QueueHopError('ERR_COMPLETION', `${what} failed with completion code ${hex(r.cc)}${r.cc === OemCompletion.InsufficientPrivilege ? ' (privilege too low: the BMC user needs OPERATOR)' : ''}`, r.cc);
  let body: T;
  try {
    body = decode(r.data);
  } catch (err) {
    throw new QueueHopError('ERR_MALFORMED', `${what}: ${err instanceof WireError ? err.message : String(err)}`);
  }
  if (body.iana !== iana) throw new QueueHopError('ERR_IANA', `${what}: answered with IANA ${body.iana}, not ${iana}`);
  return body;
}
