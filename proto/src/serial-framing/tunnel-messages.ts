/**
 * What the frames carry when the channel runs over a serial line (SOL to a
 * stock BMC): the OEM buffer-queue commands of PROTOCOL.md §2, byte for byte,
 * as requests from the manager to a queue pair the hypervisor-agent holds,
 * plus a one-byte doorbell the other way. So vms-agent's queue client and
 * the hypervisor-agent's link run unchanged; only the pipe differs.
 *
 * ```
 * request    0x11 id[2 LE] netfn cmd data…     manager → host
 * response   0x12 id[2 LE] cc data…            host → manager
 * attention  0x13                              host → manager (something waits in queue 2)
 * ```
 * The high nibble (1) is the tunnel version. A response repeats its
 * request's id; requests are idempotent (Put by seq, Get by commit), so a
 * lost frame is simply sent again under the same id.
 */
import { readU16LE, writeU16LE } from '../bytes.js';
import { WireError } from '../errors.js';

export const TunnelKind = { REQUEST: 0x11, RESPONSE: 0x12, ATTENTION: 0x13 } as const;

export type TunnelMessage =
  | { kind: 'request'; id: number; netfn: number; cmd: number; data: Uint8Array }
  | { kind: 'response'; id: number; cc: number; data: Uint8Array }
  | { kind: 'attention' };

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new WireError('ERR_BAD_FIELD', `${name} ${v} is not a byte`);
}

export function encodeTunnelMessage(m: TunnelMessage): Uint8Array {
  if (m.kind === 'attention') return Uint8Array.of(TunnelKind.ATTENTION);
  if (!Number.isInteger(m.id) || m.id < 0 || m.id > 0xffff) throw new WireError('ERR_BAD_FIELD', `tunnel id ${m.id} is not a u16`);
  const head = m.kind === 'request' ? 5 : 4;
  const out = new Uint8Array(head + m.data.length);
  writeU16LE(out, 1, m.id);
  if (m.kind === 'request') {
    checkByte('netfn', m.netfn);
    checkByte('cmd', m.cmd);
    out[0] = TunnelKind.REQUEST;
    out[3] = m.netfn;
    out[4] = m.cmd;
  } else {
    checkByte('cc', m.cc);
    out[0] = TunnelKind.RESPONSE;
    out[3] = m.cc;
  }
  out.set(m.data, head);
  return out;
}

export function decodeTunnelMessage(b: Uint8Array): TunnelMessage {
  if (b.length < 1) throw new WireError('ERR_TRUNCATED', 'empty tunnel message', 0);
  switch (b[0]) {
    case TunnelKind.ATTENTION:
      if (b.length !== 1) throw new WireError('ERR_TRAILING_BYTES', 'bytes after a tunnel attention', 1);
      return { kind: 'attention' };
    case TunnelKind.REQUEST:
      if (b.length < 5) throw new WireError('ERR_TRUNCATED', `tunnel request of ${b.length} bytes`, b.length);
      return { kind: 'request', id: readU16LE(b, 1), netfn: b[3]!, cmd: b[4]!, data: b.slice(5) };
    case TunnelKind.RESPONSE:
      if (b.length < 4) throw new WireError('ERR_TRUNCATED', `tunnel response of ${b.length} bytes`, b.length);
      return { kind: 'response', id: readU16LE(b, 1), cc: b[3]!, data: b.slice(4) };
    default:
      throw new WireError('ERR_BAD_FIELD', `unknown tunnel message kind 0x${b[0]!.toString(16)} (version or kind)`, 0);
  }
}
