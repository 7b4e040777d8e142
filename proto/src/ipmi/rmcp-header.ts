/**
 * RMCP header (DMTF ASF 2.0 §3.2.2.1, IPMI v2.0 §13.1.3), the first four
 * bytes of every datagram on UDP port 623:
 *
 *   0  version            0x06 (RMCP 1.0)
 *   1  reserved           0x00
 *   2  sequence number    0xFF for IPMI ("no RMCP ACK"), 0..254 for ASF
 *   3  class of message   bit 7 = ACK, bits 4:0 = class (6 ASF, 7 IPMI, 8 OEM)
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { isByte } from './ranges.js';

export const RMCP_VERSION = 0x06;
export const RMCP_HEADER_BYTES = 4;
/** IPMI messages never ask for an RMCP-level ACK (§13.1.3). */
export const RMCP_SEQ_NO_ACK = 0xff;

export const RmcpClass = {
  ASF: 0x06,
  IPMI: 0x07,
  OEM: 0x08,
} as const;

export interface RmcpHeader {
  sequence: number;
  messageClass: number;
  ack: boolean;
}

export function encodeRmcpHeader(h: RmcpHeader): Uint8Array {
  if (!isByte(h.sequence)) throw new WireError('ERR_BAD_FIELD', `RMCP sequence ${h.sequence} is not a byte`);
  if (!Number.isInteger(h.messageClass) || h.messageClass < 0 || h.messageClass > 0x1f) {
    throw new WireError('ERR_BAD_FIELD', `RMCP class ${h.messageClass} does not fit 5 bits`);
  }
  return new Uint8Array([RMCP_VERSION, 0x00, h.sequence, (h.ack ? 0x80 : 0) | h.messageClass]);
}

/** Decodes the first four bytes; the rest of `buf` is the class's body. */
export function decodeRmcpHeader(buf: Uint8Array, offset = 0): RmcpHeader {
  requireBytes(buf, offset, RMCP_HEADER_BYTES, 'ERR_TRUNCATED', 'RMCP header');
  if (buf[offset] !== RMCP_VERSION) throw new WireError('ERR_BAD_FIELD', `RMCP version 0x${hex(buf[offset])}, want 0x06`, offset);
  if (buf[offset + 1] !== 0) throw new WireError('ERR_BAD_FIELD', 'RMCP reserved byte is not zero', offset + 1);
  const cls = buf[offset + 3] ?? 0;
  if ((cls & 0x60) !== 0) throw new WireError('ERR_BAD_FIELD', 'RMCP class reserved bits set', offset + 3);
  return { sequence: buf[offset + 2] ?? 0, messageClass: cls & 0x1f, ack: (cls & 0x80) !== 0 };
}

/** The header every IPMI datagram carries. */
export const IPMI_RMCP_HEADER: Readonly<RmcpHeader> = Object.freeze({ sequence: RMCP_SEQ_NO_ACK, messageClass: RmcpClass.IPMI, ack: false });

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0');
}
