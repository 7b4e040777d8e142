/**
 * The host serial port SOL bridges to: `tcp:HOST:PORT` and `unix:/PATH`
 * (bmc-oem connects: QEMU's `-serial tcp::PORT,server=on`, a test's echo
 * host), or `serial:/dev/ttyX[@BAUD]` (a UART wired to the host's COM2 on
 * a do-it-yourself board).
 */
import { ConfigError } from '../config/config-error.js';
import { parseHostPort } from '../config/address.js';

export type SolDeviceSpec =
  | { kind: 'tcp'; host: string; port: number; text: string }
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'serial'; path: string; baud?: number; text: string };

export const SOL_BAUD_RATES = [9600, 19200, 38400, 57600, 115200] as const;

export function parseSolDevice(field: string, text: string): SolDeviceSpec {
  if (text.startsWith('tcp:')) {
    const hp = parseHostPort(field, text.slice(4), false);
    return { kind: 'tcp', ...hp, text };
  }
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path.startsWith('/')) throw new ConfigError(field, `unix socket path must be absolute: "${text}"`);
    return { kind: 'unix', path, text };
  }
  if (text.startsWith('serial:')) {
    const m = /^serial:(\/[^@]+)(?:@(\d+))?$/.exec(text);
    if (m === null) throw new ConfigError(field, `expected serial:/dev/ttyX[@BAUD], got "${text}"`);
    if (m[2] === undefined) return { kind: 'serial', path: m[1]!, text };
    const baud = Number(m[2]);
    if (!(SOL_BAUD_RATES as readonly number[]).includes(baud)) throw new ConfigError(field, `SOL baud must be one of ${SOL_BAUD_RATES.join(', ')}, got ${baud}`);
    return { kind: 'serial', path: m[1]!, baud, text };
  }
  throw new ConfigError(field, `expected tcp:HOST:PORT, unix:/PATH or serial:/dev/ttyX[@BAUD], got "${text}"`);
}
