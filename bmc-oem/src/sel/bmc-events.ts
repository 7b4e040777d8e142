/**
 * bmc-oem's own SEL records: OEM timestamped records (type 0xC0, IPMI
 * v2.0 §32.2) carrying the configured IANA as manufacturer id and six bytes
 * of event data, the first of which says what happened. The layout is
 * documented in docs/bmc-oem.md ("SEL records bmc-oem writes").
 *
 *   0-1 record id, 2 type 0xC0, 3-6 timestamp, 7-9 IANA (LSB first),
 *   10 event code, 11-15 details (per event, below)
 */
import { isIP } from 'node:net';

export const OEM_TIMESTAMPED_RECORD = 0xc0;

export const BmcEventCode = {
  /** 11: why (0 process start, 1 cold reset, 2 warm reset). */
  Started: 0x01,
  /** 11: Chassis Control action (0 off .. 5 soft), 12: 0 done / 1 failed, 13: channel (1 LAN, 15 host), 14: user id (0 host). */
  HostPower: 0x02,
  /** 11: user id, 12-15: the source's IPv4 address (IPv6: the first 4 bytes of its /64). */
  LoginThrottled: 0x03,
  /** 11: 1 refused, 12-15: the newcomer's IPv4 address (0 for unix sockets and IPv6). */
  HostLinkTakeover: 0x04,
  /** 11: queue, 12-15: the seq a second producer reused with different bytes (LSB first). */
  QueueSeqCollision: 0x05,
  /** 11: what (1 name, 2 password, 3 enabled, 4 disabled, 5 access), 12: user id, 13: channel (1 LAN, 15 host), 14: by user id (0 host). */
  UserChanged: 0x06,
} as const;

export type BmcEventCodeValue = (typeof BmcEventCode)[keyof typeof BmcEventCode];

export function encodeBmcEvent(iana: number, code: BmcEventCodeValue, details: readonly number[] = []): Uint8Array {
  const r = new Uint8Array(16);
  r[2] = OEM_TIMESTAMPED_RECORD;
  r[7] = iana & 0xff;
  r[8] = (iana >>> 8) & 0xff;
  r[9] = (iana >>> 16) & 0xff;
  r[10] = code;
  for (let i = 0; i < 5; i++) r[11 + i] = (details[i] ?? 0) & 0xff;
  return r;
}

/** Four bytes naming a source address in a record (see LoginThrottled). */
export function addressBytes(address: string): number[] {
  const bare = address.replace(/::\/64$/, '::');
  if (isIP(bare) === 4) return bare.split('.').map((p) => Number(p) & 0xff);
  if (isIP(bare) === 6) {
    const head = bare.split('::')[0] ?? '';
    const groups = head === '' ? [] : head.split(':');
    const g0 = Number.parseInt(groups[0] ?? '0', 16) || 0;
    const g1 = Number.parseInt(groups[1] ?? '0', 16) || 0;
    return [g0 >>> 8, g0 & 0xff, g1 >>> 8, g1 & 0xff];
  }
  return [0, 0, 0, 0];
}
