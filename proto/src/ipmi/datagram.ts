/**
 * A whole UDP datagram on the RMCP port, classified: ASF presence
 * ping/pong, pre-session IPMI v1.5, or IPMI v2.0 / RMCP+. This is the
 * first thing a receiver calls; a WireError here means "count and drop".
 */
import { concatBytes, readU16LE, readU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { type AsfMessage, decodeAsfMessage, encodeAsfMessage } from './asf-presence.js';
import { AuthType, PayloadType } from './payload-type.js';
import { decodeRmcpHeader, encodeRmcpHeader, IPMI_RMCP_HEADER, RMCP_HEADER_BYTES, RMCP_SEQ_NO_ACK, RmcpClass } from './rmcp-header.js';
import { decodeIpmi15Session, encodeIpmi15Session, type Ipmi15Session } from './session-v15.js';
import { decodeIpmi20Session, encodeIpmi20Session, type Ipmi20Session } from './session-v20.js';

export type RmcpDatagram =
  | { kind: 'asf'; sequence: number; message: AsfMessage }
  | { kind: 'ipmi15'; session: Ipmi15Session }
  | { kind: 'ipmi20'; session: Ipmi20Session };

export function encodeRmcpDatagram(d: RmcpDatagram): Uint8Array {
  switch (d.kind) {
    case 'asf':
      return concatBytes([encodeRmcpHeader({ sequence: d.sequence, messageClass: RmcpClass.ASF, ack: false }), encodeAsfMessage(d.message)]);
    case 'ipmi15':
      return concatBytes([encodeRmcpHeader(IPMI_RMCP_HEADER), encodeIpmi15Session(d.session)]);
    case 'ipmi20':
      return concatBytes([encodeRmcpHeader(IPMI_RMCP_HEADER), encodeIpmi20Session(d.session)]);
  }
}

export function decodeRmcpDatagram(buf: Uint8Array): RmcpDatagram {
  const rmcp = decodeRmcpHeader(buf, 0);
  if (rmcp.ack) throw new WireError('ERR_IPMI_UNSUPPORTED', 'RMCP ACK messages are not used', 3);
  if (rmcp.messageClass === RmcpClass.ASF) {
    return { kind: 'asf', sequence: rmcp.sequence, message: decodeAsfMessage(buf, RMCP_HEADER_BYTES) };
  }
  if (rmcp.messageClass !== RmcpClass.IPMI) throw new WireError('ERR_IPMI_UNSUPPORTED', `RMCP class ${rmcp.messageClass}`, 3);
  if (rmcp.sequence !== RMCP_SEQ_NO_ACK) throw new WireError('ERR_BAD_FIELD', 'IPMI over RMCP must use sequence 0xFF', 2);
  if (buf.length > RMCP_HEADER_BYTES && buf[RMCP_HEADER_BYTES] === AuthType.RMCP_PLUS) {
    return { kind: 'ipmi20', session: decodeIpmi20Session(buf, RMCP_HEADER_BYTES) };
  }
  return { kind: 'ipmi15', session: decodeIpmi15Session(buf, RMCP_HEADER_BYTES) };
}

export interface Ipmi20Peek {
  sessionId: number;
  sessionSeq: number;
  payloadType: number;
}

/**
 * Reads the session id, sequence number and payload type of `buf` in place
 * when decodeRmcpDatagram would decode it as an IPMI v2.0 packet with a
 * standard (not OEM explicit) payload, without copying anything; undefined
 * for every other datagram (decode those to learn what they are). This is
 * the receive path's quick look before the session's own checks.
 */
export function peekIpmi20Session(buf: Uint8Array): Ipmi20Peek | undefined {
  const headers = RMCP_HEADER_BYTES + 12;
  if (buf.length < headers) return undefined;
  if (buf[0] !== 0x06 || buf[1] !== 0x00 || buf[2] !== RMCP_SEQ_NO_ACK || buf[3] !== RmcpClass.IPMI || buf[4] !== AuthType.RMCP_PLUS) return undefined;
  const typeByte = buf[5] ?? 0;
  const payloadType = typeByte & 0x3f;
  if (payloadType === PayloadType.OEM_EXPLICIT) return undefined;
  const end = headers + readU16LE(buf, 14);
  if (end > buf.length || ((typeByte & 0x40) === 0 && end !== buf.length)) return undefined;
  return { sessionId: readU32LE(buf, 6), sessionSeq: readU32LE(buf, 10), payloadType };
}
