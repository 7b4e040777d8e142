/**
 * `vms-agent bmc info|raw`: talk to one BMC over the project's own RMCP+
 * client, for debugging a BMC link without the service. Output follows
 * ipmitool (`mc info`, `raw`) so the two can be compared line by line.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ADDITIONAL_DEVICE_SUPPORT_NAMES,
  AppCommand,
  completionCodeName,
  decodeDeviceId,
  firmwareRevisionText,
  ipmiVersionText,
  isWireError,
  NetFn,
} from '@backchannel/proto';
import { isRmcpError, openSession, type RmcpSession } from '../rmcp/index.js';

export const BMC_HELP = `usage: vms-agent bmc info --bmc HOST[:PORT] --user NAME --password-file FILE [options]
       vms-agent bmc raw NETFN CMD [DATA...] --bmc HOST[:PORT] --user NAME --password-file FILE [options]
       vms-agent bmc queue-info HOST        (through a configured host; see vms-agent --help)

  info                 Get Device ID, printed like "ipmitool mc info"
  raw NETFN CMD DATA   any IPMI request (bytes as 0x2e, 2e or 46), response printed like "ipmitool raw"

  --bmc HOST[:PORT]    BMC address; port 623 by default ([::1]:623 for IPv6)
  --user NAME          BMC user name
  --password-file FILE file whose first line is the password (kept out of argv and shell history)
  --cipher N           acceptable cipher suite, repeatable or comma separated (default 17,3)
  --privilege LEVEL    user | operator | administrator (default operator)
  --timeout MS         wait before resending while no round trip is measured yet (default 1000);
                       then the wait follows the measured round trips (docs/rmcp.md)
  --retries N          give up after timeout × (retries + 1) ms without an answer (default 3)

exit codes: 0 ok, 1 non-zero completion code or failure, 2 usage, 4 authentication or privilege refused, 5 BMC unreachable`;

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_AUTH = 4;
const EXIT_UNREACHABLE = 5;

export interface BmcCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: BmcCommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

class UsageError extends Error {}

/** Parses a byte as ipmitool raw accepts it: hex with or without 0x (0x2e, 2e). */
export function parseByte(text: string): number {
  const t = text.trim().toLowerCase();
  const m = /^(?:0x)?([0-9a-f]{1,2})$/.exec(t);
  if (!m || m[1] === undefined) throw new UsageError(`"${text}" is not a byte (use hex, e.g. 0x06)`);
  return parseInt(m[1], 16);
}

export function parseBmcAddress(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const m = v6 ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m || !m[1]) throw new UsageError(`--bmc must be HOST[:PORT], got "${text}"`);
  const port = m[2] === undefined ? 623 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--bmc port must be 1..65535, got "${m[2]}"`);
  return { host: m[1], port };
}

/** " 00 03 09 ..." with 16 bytes per line, as ipmitool raw prints a response. */
export function formatRawResponse(data: Uint8Array): string {
  let out = '';
  for (let i = 0; i < data.length; i++) {
    if (i > 0 && i % 16 === 0) out += '\n';
    out += ` ${(data[i] ?? 0).toString(16).padStart(2, '0')}`;
  }
  return `${out}\n`;
}

const MANUFACTURERS: Record<number, string> = {
  2: 'IBM',
  11: 'Hewlett-Packard',
  343: 'Intel Corporation',
  674: 'Dell Inc',
  4753: 'MontaVista Software, Inc.',
  7244: 'Quanta',
  10876: 'Super Micro Computer Inc.',
  19046: 'Lenovo',
  32473: 'Documentation (RFC 5612)',
};

export function formatDeviceId(data: Uint8Array): string {
  const d = decodeDeviceId(data);
  const row = (k: string, v: string): string => `${k.padEnd(26)}: ${v}\n`;
  let out = '';
  out += row('Device ID', String(d.deviceId));
  out += row('Device Revision', String(d.deviceRevision));
  out += row('Firmware Revision', firmwareRevisionText(d));
  out += row('IPMI Version', ipmiVersionText(d.ipmiVersion));
  out += row('Manufacturer ID', String(d.manufacturerId));
  out += row('Manufacturer Name', MANUFACTURERS[d.manufacturerId] ?? `Unknown (0x${d.manufacturerId.toString(16).toUpperCase()})`);
  out += row('Product ID', `${d.productId} (0x${d.productId.toString(16).padStart(4, '0')})`);
  out += row('Device Available', d.updateInProgress ? 'no' : 'yes');
  out += row('Provides Device SDRs', d.providesDeviceSdrs ? 'yes' : 'no');
  out += `${'Additional Device Support'.padEnd(26)}:\n`;
  ADDITIONAL_DEVICE_SUPPORT_NAMES.forEach((name, bit) => {
    if (d.additionalDeviceSupport & (1 << bit)) out += `    ${name}\n`;
  });
  if (d.auxFirmwareRevision) {
    out += row('Aux Firmware Rev Info', '');
    for (const b of d.auxFirmwareRevision) out += `    0x${b.toString(16).padStart(2, '0')}\n`;
  }
  return out;
}

function readPassword(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --password-file ${file}: ${(err as Error).message}`);
  }
  return text.split(/\r?\n/)[0] ?? '';
}

export async function runBmcCommand(argv: string[], io: BmcCommandIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        bmc: { type: 'string' },
        user: { type: 'string' },
        'password-file': { type: 'string' },
        cipher: { type: 'string', multiple: true },
        privilege: { type: 'string', default: 'operator' },
        timeout: { type: 'string', default: '1000' },
        retries: { type: 'string', default: '3' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.stderr(`vms-agent bmc: ${(err as Error).message}\n${BMC_HELP}\n`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${BMC_HELP}\n`);
    return EXIT_OK;
  }
  let session: RmcpSession | undefined;
  try {
    const [sub, ...args] = positionals;
    if (sub !== 'info' && sub !== 'raw') throw new UsageError(sub ? `unknown bmc command "${sub}"` : 'missing bmc command (info or raw)');
    let netFn: number = NetFn.APP;
    let cmd: number = AppCommand.GET_DEVICE_ID;
    let data = new Uint8Array(0);
    if (sub === 'raw') {
      if (args.length < 2) throw new UsageError('raw needs NETFN and CMD');
      const bytes = args.map(parseByte);
      netFn = bytes[0]!;
      cmd = bytes[1]!;
      if (netFn > 0x3f) throw new UsageError(`netfn 0x${netFn.toString(16)} does not fit 6 bits`);
      data = Uint8Array.from(bytes.slice(2));
    } else if (args.length > 0) {
      throw new UsageError('info takes no arguments');
    }
    if (!values.bmc) throw new UsageError('--bmc HOST[:PORT] is required');
    if (!values.user) throw new UsageError('--user NAME is required');
    if (!values['password-file']) throw new UsageError('--password-file FILE is required');
    const { host, port } = parseBmcAddress(values.bmc);
    const suites = (values.cipher ?? ['17,3']).flatMap((c) => c.split(',')).map((c) => {
      const n = Number(c.trim());
      if (!Number.isInteger(n)) throw new UsageError(`--cipher "${c}" is not a number`);
      return n;
    });
    const timeoutMs = Number(values.timeout);
    const retries = Number(values.retries);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout must be a positive integer (ms)');
    if (!Number.isInteger(retries) || retries < 0) throw new UsageError('--retries must be a non-negative integer');

    session = await openSession({ host, port, user: values.user, password: readPassword(values['password-file']), privilege: values.privilege, cipherSuites: suites, timeoutMs, retries, keepAliveMs: 0 });
    const r = await session.request(netFn, cmd, data);
    if (r.cc !== 0) {
      io.stderr(`Unable to send RAW command (netfn=0x${netFn.toString(16)} lun=0x0 cmd=0x${cmd.toString(16)} rsp=0x${r.cc.toString(16)}): ${completionCodeName(r.cc)}\n`);
      return EXIT_FAILED;
    }
    io.stdout(sub === 'info' ? formatDeviceId(r.data) : formatRawResponse(r.data));
    return EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`vms-agent bmc: ${err.message}\n${BMC_HELP}\n`);
      return EXIT_USAGE;
    }
    if (isRmcpError(err)) {
      io.stderr(`vms-agent bmc: ${err.message} [${err.code}]\n`);
      if (err.code === 'ERR_RMCP_BAD_OPTIONS') return EXIT_USAGE;
      if (err.code === 'ERR_RMCP_AUTH_FAILED' || err.code === 'ERR_RMCP_PRIVILEGE_DENIED') return EXIT_AUTH;
      if (err.code === 'ERR_RMCP_TIMEOUT') return EXIT_UNREACHABLE;
      return EXIT_FAILED;
    }
    if (isWireError(err)) {
      io.stderr(`vms-agent bmc: malformed response: ${err.message}\n`);
      return EXIT_FAILED;
    }
    throw err;
  } finally {
    await session?.close();
  }
}
