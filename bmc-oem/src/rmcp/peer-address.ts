/**
 * Which "source" a datagram came from, for login throttling and per-source
 * caps. The transport reports peers as "ADDRESS:PORT"; a console opens each
 * session from a fresh port, so the port is not part of the source. An
 * IPv4-mapped IPv6 address is its IPv4 address; any other IPv6 address
 * counts by its /64 prefix, because one host is normally given a whole /64
 * and could otherwise hop addresses within it for free.
 */
import { isIP } from 'node:net';

function expandIpv6(address: string): number[] | undefined {
  const [head = '', tail, extra] = address.split('::');
  if (extra !== undefined) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const all = [...h, ...Array<string>(Math.max(0, missing)).fill('0'), ...t];
  const out = all.map((g) => Number.parseInt(g, 16));
  return out.length === 8 && out.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? out : undefined;
}

/** The source key of a peer "ADDRESS:PORT" (or a bare address). */
export function sourceAddress(peer: string): string {
  let address = peer;
  if (isIP(peer) === 0) {
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
    if (bracketed !== null) address = bracketed[1] ?? peer;
    else {
      const cut = peer.lastIndexOf(':');
      if (cut > 0 && /^\d+$/.test(peer.slice(cut + 1))) address = peer.slice(0, cut);
    }
  }
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] ?? address;
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address.toLowerCase());
  if (groups === undefined) return address;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
