/** Parsing of HOST:PORT and VM listener strings (already shape-checked by the schema). */
import { ConfigError } from './config-error.js';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(field: string, text: string, allowZeroPort = true): HostPort {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (m === null) throw new ConfigError(field, `expected HOST:PORT, got "${text}"`);
  const port = Number(m[3]);
  if (port > 65535 || (!allowZeroPort && port === 0)) throw new ConfigError(field, `port out of range in "${text}"`);
  return { host: m[1] ?? m[2] ?? '', port };
}

export type VmListenSpec =
  | { kind: 'tcp'; host: string; port: number; text: string }
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'serial'; path: string; baud: number; text: string };

const BAUD_RATES = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]);

export function parseVmListen(field: string, text: string): VmListenSpec {
  if (text.startsWith('tcp:')) return { kind: 'tcp', ...parseHostPort(field, text.slice(4)), text };
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path.startsWith('/')) throw new ConfigError(field, `unix socket path must be absolute: "${text}"`);
    return { kind: 'unix', path, text };
  }
  if (text.startsWith('serial:')) {
    const m = /^serial:(\/[^@]+)(?:@(\d+))?$/.exec(text);
    if (m === null) throw new ConfigError(field, `expected serial:/dev/ttyX@BAUD, got "${text}"`);
    const baud = m[2] === undefined ? 115200 : Number(m[2]);
    if (!BAUD_RATES.has(baud)) throw new ConfigError(field, `unsupported baud rate ${baud}`);
    return { kind: 'serial', path: m[1] ?? '', baud, text };
  }
  throw new ConfigError(field, `expected tcp:HOST:PORT, unix:/PATH or serial:/DEV@BAUD, got "${text}"`);
}
