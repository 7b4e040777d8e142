/**
 * Payload activation (IPMI v2.0 §24) and SOL configuration parameters
 * (§26.2-26.3) request/response codecs, for the SOL client and server.
 *
 * Activate Payload (App 0x48) response, after the completion code:
 * ```
 * 0-3   auxiliary data (0)
 * 4-5   inbound payload size: the largest SOL payload the BMC accepts (LS first)
 * 6-7   outbound payload size: the largest it sends
 * 8-9   UDP port for the payload (LS first; a console opens a new session there if it differs)
 * 10-11 VLAN (0xFFFF: none)
 * ```
 */
import { readU16LE, writeU16LE } from '../bytes.js';
import { WireError } from '../errors.js';

/** App NetFn (0x06) payload commands and Transport NetFn (0x0C) SOL configuration commands. */
export const PayloadCommand = {
  ACTIVATE_PAYLOAD: 0x48,
  DEACTIVATE_PAYLOAD: 0x49,
  GET_PAYLOAD_ACTIVATION_STATUS: 0x4a,
  GET_PAYLOAD_INSTANCE_INFO: 0x4b,
  GET_CHANNEL_PAYLOAD_SUPPORT: 0x4e,
  GET_CHANNEL_PAYLOAD_VERSION: 0x4f,
} as const;

export const SolConfigCommand = { SET: 0x21, GET: 0x22 } as const;

/** Completion codes specific to payload activation (§24.1, §24.2). */
export const PayloadCompletion = {
  ALREADY_ACTIVE: 0x80,
  TYPE_DISABLED: 0x81,
  ACTIVATION_LIMIT: 0x82,
  CANNOT_WITH_ENCRYPTION: 0x83,
  CANNOT_WITHOUT_ENCRYPTION: 0x84,
} as const;

/** SOL configuration parameter selectors (§26.3 Table 26-5). */
export const SolParam = {
  SET_IN_PROGRESS: 0,
  ENABLE: 1,
  AUTHENTICATION: 2,
  ACCUMULATE: 3,
  RETRY: 4,
  NV_BIT_RATE: 5,
  VOLATILE_BIT_RATE: 6,
  PAYLOAD_CHANNEL: 7,
  PAYLOAD_PORT: 8,
} as const;

/** Parameter revision reported by Get SOL Configuration Parameters. */
export const SOL_PARAM_REVISION = 0x11;

/** Bit-rate codes of parameters 5/6; 0 means "use the serial port's own setting". */
export const SOL_BAUD_CODES: ReadonlyMap<number, number> = new Map([
  [6, 9600],
  [7, 19200],
  [8, 38400],
  [9, 57600],
  [10, 115200],
]);

export function solBaudCode(baud: number): number {
  for (const [code, rate] of SOL_BAUD_CODES) if (rate === baud) return code;
  throw new WireError('ERR_BAD_FIELD', `SOL bit rate ${baud} (IPMI knows 9600, 19200, 38400, 57600, 115200)`);
}

export interface ActivatePayloadRequest {
  payloadType: number;
  instance: number;
  encrypt: boolean;
  authenticate: boolean;
  /** Startup handshake bit: true leaves CTS and DCD/DSR deasserted after activation. */
  holdHandshake: boolean;
}

export function encodeActivatePayloadRequest(r: ActivatePayloadRequest): Uint8Array {
  const aux = (r.encrypt ? 0x80 : 0) | (r.authenticate ? 0x40 : 0) | (r.holdHandshake ? 0x02 : 0);
  return Uint8Array.of(r.payloadType & 0x3f, r.instance & 0x0f, aux, 0, 0, 0);
}

export function decodeActivatePayloadRequest(d: Uint8Array): ActivatePayloadRequest {
  if (d.length !== 6) throw new WireError(d.length < 6 ? 'ERR_TRUNCATED' : 'ERR_TRAILING_BYTES', `Activate Payload request of ${d.length} bytes (6)`, d.length);
  const aux = d[2]!;
  return { payloadType: d[0]! & 0x3f, instance: d[1]! & 0x0f, encrypt: (aux & 0x80) !== 0, authenticate: (aux & 0x40) !== 0, holdHandshake: (aux & 0x02) !== 0 };
}

export interface ActivatePayloadResponse {
  inboundPayloadSize: number;
  outboundPayloadSize: number;
  port: number;
  vlan: number;
}

export function encodeActivatePayloadResponse(r: ActivatePayloadResponse): Uint8Array {
  const out = new Uint8Array(12);
  writeU16LE(out, 4, r.inboundPayloadSize);
  writeU16LE(out, 6, r.outboundPayloadSize);
  writeU16LE(out, 8, r.port);
  writeU16LE(out, 10, r.vlan);
  return out;
}

/** Response data after the completion code. Some BMCs omit the VLAN bytes: accepted. */
export function decodeActivatePayloadResponse(d: Uint8Array): ActivatePayloadResponse {
  if (d.length < 10) throw new WireError('ERR_TRUNCATED', `Activate Payload response of ${d.length} bytes (12)`, d.length);
  return { inboundPayloadSize: readU16LE(d, 4), outboundPayloadSize: readU16LE(d, 6), port: readU16LE(d, 8), vlan: d.length >= 12 ? readU16LE(d, 10) : 0xffff };
}

export function encodeDeactivatePayloadRequest(payloadType: number, instance: number): Uint8Array {
  return Uint8Array.of(payloadType & 0x3f, instance & 0x0f, 0, 0, 0, 0);
}

export interface PayloadActivationStatus {
  /** How many instances may be active at once (1..15). */
  capacity: number;
  /** Instances (1..16) currently active. */
  active: number[];
}

export function encodePayloadActivationStatus(s: PayloadActivationStatus): Uint8Array {
  let bits = 0;
  for (const i of s.active) bits |= 1 << (i - 1);
  return Uint8Array.of(s.capacity & 0x0f, bits & 0xff, (bits >> 8) & 0xff);
}

export function decodePayloadActivationStatus(d: Uint8Array): PayloadActivationStatus {
  if (d.length < 3) throw new WireError('ERR_TRUNCATED', `Get Payload Activation Status response of ${d.length} bytes (3)`, d.length);
  const bits = d[1]! | (d[2]! << 8);
  const active: number[] = [];
  for (let i = 0; i < 16; i++) if (bits & (1 << i)) active.push(i + 1);
  return { capacity: d[0]! & 0x0f, active };
}
