/**
 * The one error class every decoder and crypto routine in this package
 * throws. `code` is stable (callers switch on it, metrics count by it);
 * `offset` is the byte position a decoder stopped at, when there is one.
 * Decoders never return half-decoded objects: they return or throw this.
 */
export type WireErrorCode =
  // generic codec failures
  | 'ERR_TRUNCATED'
  | 'ERR_TRAILING_BYTES'
  | 'ERR_BAD_FIELD'
  | 'ERR_PROTOBUF_DECODE'
  // envelope
  | 'ERR_ENVELOPE_MALFORMED'
  | 'ERR_ENVELOPE_BAD_VERSION'
  | 'ERR_ENVELOPE_WRONG_HOST'
  | 'ERR_ENVELOPE_WRONG_DIRECTION'
  | 'ERR_ENVELOPE_STALE_STEP'
  | 'ERR_ENVELOPE_TAMPERED'
  | 'ERR_ENVELOPE_BAD_SEED'
  // fragments
  | 'ERR_FRAGMENT_MALFORMED'
  | 'ERR_FRAGMENT_BAD_VERSION'
  | 'ERR_FRAGMENT_GAP'
  | 'ERR_FRAGMENT_INTERLEAVED'
  | 'ERR_FRAGMENT_TOO_LARGE'
  | 'ERR_FRAGMENT_BAD_PARAMS'
  // keys and signatures
  | 'ERR_KEY_MALFORMED'
  | 'ERR_SIGNATURE_MALFORMED'
  // IPMI / RMCP+ (proto/src/ipmi)
  | 'ERR_IPMI_CHECKSUM'
  | 'ERR_IPMI_INTEGRITY'
  | 'ERR_IPMI_PADDING'
  | 'ERR_IPMI_UNSUPPORTED'
  | 'ERR_IPMI_NOT_PROTECTED';

export class WireError extends Error {
  readonly code: WireErrorCode;
  readonly offset: number | undefined;

  constructor(code: WireErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'WireError';
    this.code = code;
    this.offset = offset;
  }
}

export function isWireError(err: unknown, code?: WireErrorCode): err is WireError {
  return err instanceof WireError && (code === undefined || err.code === code);
}
