/**
 * ASF presence ping / pong (DMTF ASF 2.0 §3.2.4.1-2), carried in an RMCP
 * datagram of class ASF. Management consoles use it to discover that a BMC
 * answers on port 623 before any IPMI traffic.
 *
 *   0..3  IANA enterprise number, big-endian (4542 = 0x000011BE for ASF)
 *   4     message type (0x80 ping, 0x40 pong)
 *   5     message tag (echoed in the pong)
 *   6     reserved 0x00
 *   7     data length (0 for ping, 16 for pong)
 *   8..   data
 *
 * Pong data: IANA[4, BE] OEM-defined[4] supported entities[1]
 * (bit 7 = IPMI supported, bits 3:0 = ASF version 1) supported
 * interactions[1] reserved[6].
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { isByte, isU32 } from './ranges.js';

export const ASF_IANA = 4542;
export const AsfMessageType = {
  PRESENCE_PONG: 0x40,
  PRESENCE_PING: 0x80,
} as const;

export const ASF_HEADER_BYTES = 8;
export const ASF_PONG_DATA_BYTES = 16;

export type AsfMessage =
  | { kind: 'ping'; messageTag: number }
  | {
      kind: 'pong';
      messageTag: number;
      /** IANA of the OEM whose OEM-defined field follows; 4542 when none. */
      oemIana: number;
      oemDefined: number;
      /** bit 7: IPMI supported; bits 3:0: ASF version (1). */
      supportedEntities: number;
      supportedInteractions: number;
    };

export function encodeAsfMessage(m: AsfMessage): Uint8Array {
  if (!isByte(m.messageTag)) throw new WireError('ERR_BAD_FIELD', 'ASF message tag is not a byte');
  if (m.kind === 'ping') {
    const out = new Uint8Array(ASF_HEADER_BYTES);
    writeU32BE(out, 0, ASF_IANA);
    out[4] = AsfMessageType.PRESENCE_PING;
    out[5] = m.messageTag;
    return out;
  }
  if (!isU32(m.oemIana) || !isU32(m.oemDefined) || !isByte(m.supportedEntities) || !isByte(m.supportedInteractions)) {
    throw new WireError('ERR_BAD_FIELD', 'ASF pong field out of range');
  }
  const out = new Uint8Array(ASF_HEADER_BYTES + ASF_PONG_DATA_BYTES);
  writeU32BE(out, 0, ASF_IANA);
  out[4] = AsfMessageType.PRESENCE_PONG;
  out[5] = m.messageTag;
  out[7] = ASF_PONG_DATA_BYTES;
  writeU32BE(out, 8, m.oemIana);
  writeU32BE(out, 12, m.oemDefined);
  out[16] = m.supportedEntities;
  out[17] = m.supportedInteractions;
  return out;
}

export function decodeAsfMessage(buf: Uint8Array, offset = 0): AsfMessage {
  requireBytes(buf, offset, ASF_HEADER_BYTES, 'ERR_TRUNCATED', 'ASF header');
  const iana = readU32BE(buf, offset);
  if (iana !== ASF_IANA) throw new WireError('ERR_BAD_FIELD', `ASF IANA ${iana}, want ${ASF_IANA}`, offset);
  const type = buf[offset + 4];
  const messageTag = buf[offset + 5] ?? 0;
  const length = buf[offset + 7] ?? 0;
  const body = offset + ASF_HEADER_BYTES;
  requireBytes(buf, body, length, 'ERR_TRUNCATED', 'ASF data');
  if (body + length !== buf.length) throw new WireError('ERR_TRAILING_BYTES', 'bytes after ASF data', body + length);
  if (type === AsfMessageType.PRESENCE_PING) {
    if (length !== 0) throw new WireError('ERR_BAD_FIELD', 'ASF ping carries data', offset + 7);
    return { kind: 'ping', messageTag };
  }
  if (type === AsfMessageType.PRESENCE_PONG) {
    if (length !== ASF_PONG_DATA_BYTES) throw new WireError('ERR_BAD_FIELD', `ASF pong data length ${length}, want 16`, offset + 7);
    return {
      kind: 'pong',
      messageTag,
      oemIana: readU32BE(buf, body),
      oemDefined: readU32BE(buf, body + 4),
      supportedEntities: buf[body + 8] ?? 0,
      supportedInteractions: buf[body + 9] ?? 0,
    };
  }
  throw new WireError('ERR_IPMI_UNSUPPORTED', `ASF message type 0x${(type ?? 0).toString(16)} is not presence ping/pong`, offset + 4);
}

function writeU32BE(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

function readU32BE(buf: Uint8Array, at: number): number {
  return (buf[at] ?? 0) * 0x1000000 + (((buf[at + 1] ?? 0) << 16) | ((buf[at + 2] ?? 0) << 8) | (buf[at + 3] ?? 0));
}
