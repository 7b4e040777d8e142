/**
 * The agent's `link` when the manager reaches this host over SOL through a
 * stock BMC: the host serial port the BMC bridges, `serial:/dev/ttyS1@115200`
 * (baud optional, 115200), or for tests `tcp:HOST:PORT` / `unix:/PATH`
 * (a pipe standing in for the line; the agent connects).
 */
import type { VmSerialTarget } from './bmc-transport.js';
import { LinkUriError } from './link-uri.js';

const BAUD_RATES = new Set([9600, 19200, 38400, 57600, 115200]);

export function isSerialLink(text: string): boolean {
  return /^(serial|tcp|unix):/.test(text);
}

export function parseSerialLink(text: string): VmSerialTarget {
  if (text.startsWith('serial:')) {
    const m = /^serial:(\/[^@]+)(?:@(\d+))?$/.exec(text);
    if (!m) throw new LinkUriError(`expected serial:/dev/ttyS1[@BAUD], got "${text}"`);
    const baud = m[2] === undefined ? 115200 : Number(m[2]);
    if (!BAUD_RATES.has(baud)) throw new LinkUriError(`serial baud must be one of ${[...BAUD_RATES].join(', ')}, got ${m[2]}`);
    return { kind: 'serial', path: m[1]!, baud };
  }
  if (text.startsWith('tcp:')) {
    const m = /^tcp:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) throw new LinkUriError(`expected tcp:HOST:PORT, got "${text}"`);
    return { kind: 'tcp', host: m[1] ?? m[2]!, port };
  }
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path.startsWith('/')) throw new LinkUriError(`expected unix:/PATH (absolute), got "${text}"`);
    return { kind: 'unix', path };
  }
  throw new LinkUriError(`expected serial:/dev/ttyS1@115200, tcp:HOST:PORT or unix:/PATH, got "${text}"`);
}

export function describeSerialLink(t: VmSerialTarget): string {
  if (t.kind === 'serial') return `serial:${t.path}@${t.baud}`;
  if (t.kind === 'tcp') return `tcp:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  return `unix:${t.path}`;
}
