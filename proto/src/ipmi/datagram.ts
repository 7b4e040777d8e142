/**
 * A whole UDP datagram on the RMCP port, classified: ASF presence
 * ping/pong, pre-session IPMI v1.5, or IPMI v2.0 / RMCP+. This is the
 * first thing a receiver calls; a WireError here means "count and drop".
 */
import { concatBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { type AsfMessage, decodeAsfMessage, encodeAsfMessage } from './asf-presence.js';
import { AuthType } from './payload-type.js';
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
