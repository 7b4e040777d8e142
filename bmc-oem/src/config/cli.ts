/**
 * Command-line flags. Each flag has a config-file twin (camelCase); flags
 * win over the file, and a repeatable flag replaces the file's list.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';
import type { RawConfig } from './schema.js';

export const HELP_TEXT = `Usage: bmc-oem [--config bmc.json] [options]

A software BMC: an IPMI v2.0 RMCP+ (lanplus) server with the Backchannel OEM
buffer queues, a VM-protocol system interface and a host-power backend.
Flags override the same settings in the config file.

Options:
  --config FILE                 JSON config file (see docs/bmc-oem.md)
  --listen HOST:PORT            RMCP+ UDP address (default 0.0.0.0:623)
  --user NAME:PRIVILEGE:PASSWORD_FILE
                                a LAN user; PRIVILEGE is user, operator or
                                administrator; the password is read from the
                                file (one line). Repeatable; replaces "users".
  --vm-listen SPEC              system interface (host link) listener:
                                unix:/PATH, serial:/DEV[@BAUD] or tcp:HOST:PORT
                                (logs a warning: anyone who can connect acts as
                                the host), or none. Repeatable. Default:
                                unix:STATE_DIR/host.sock (mode 0600) with
                                --state-dir, else none.
  --vm-allow-peer ADDRESS       accept TCP host-link connections only from
                                this address. Repeatable.
  --sol-device SPEC             Serial-over-LAN: the host serial port to bridge,
                                tcp:HOST:PORT or unix:/PATH (bmc-oem connects)
                                or serial:/DEV[@BAUD]; default off (docs/sol.md)
  --sol-baud N                  SOL bit rate: 9600, 19200, 38400, 57600 or
                                115200 (default 115200, or the @BAUD of serial:)
  --iana N                      IANA enterprise number of the OEM queue
                                commands (default 32473 = D9 7E 00)
  --queue-capacity BYTES        capacity of each queue (default 65536)
  --max-record BYTES            largest record (default 200)
  --state-dir DIR               keep queues, SEL, users, FRU, LAN and boot
                                settings and the GUID here across restarts
                                (files 0600)
  --cipher-suites LIST          comma-separated RMCP+ suites, from 17 and 3
                                (default 17,3); suite 0 is never offered
  --host-power none|command     host-power backend (default none)
  --power-command PROGRAM       with command: run PROGRAM on|off|cycle|reset|diag|soft
                                (BMC_BOOT_DEVICE etc. in its environment)
  --power-status-command PROGRAM
                                with command: PROGRAM prints on or off
  --metrics HOST:PORT           serve Prometheus metrics at /metrics
  --log-level LEVEL             fatal, error, warn, info (default), debug,
                                trace or silent
  -h, --help                    print this help and exit
  --version                     print the version and exit

Signals: SIGTERM or SIGINT closes the listeners and exits 0.
`;

export interface CliResult {
  help: boolean;
  version: boolean;
  configFile?: string;
  /** The settings given as flags, in config-file shape. */
  overrides: RawConfig;
  /** Which top-level config key each flag set, to name flags in errors. */
  flagFor: Record<string, string>;
}

function toInt(flag: string, text: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(flag, `expected an integer, got "${text}"`);
  return n;
}

/** Parses `NAME:PRIVILEGE:PASSWORD_FILE`; the file path may itself contain ':'. */
export function parseUserFlag(field: string, text: string): { name: string; privilege: string; passwordFile: string } {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (first <= 0 || second < 0 || second === text.length - 1) {
    throw new ConfigError(field, `expected NAME:PRIVILEGE:PASSWORD_FILE, got "${text.replace(/:.*$/, ':…')}"`);
  }
  return { name: text.slice(0, first), privilege: text.slice(first + 1, second), passwordFile: text.slice(second + 1) };
}

export function parseCli(argv: readonly string[]): CliResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        user: { type: 'string', multiple: true },
        'vm-listen': { type: 'string', multiple: true },
        'vm-allow-peer': { type: 'string', multiple: true },
        'sol-device': { type: 'string' },
        'sol-baud': { type: 'string' },
        iana: { type: 'string' },
        'queue-capacity': { type: 'string' },
        'max-record': { type: 'string' },
        'state-dir': { type: 'string' },
        'cipher-suites': { type: 'string' },
        'host-power': { type: 'string' },
        'power-command': { type: 'string' },
        'power-status-command': { type: 'string' },
        metrics: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new ConfigError('command line', (err as Error).message);
  }
  const v = parsed.values;
  const o: Record<string, unknown> = {};
  const flagFor: Record<string, string> = {};
  const set = (key: string, flag: string, value: unknown): void => {
    o[key] = value;
    flagFor[key] = flag;
  };
  if (v.listen !== undefined) set('listen', '--listen', v.listen);
  if (v.user !== undefined) set('users', '--user', v.user.map((u, i) => parseUserFlag(`--user #${i + 1}`, u)));
  if (v['vm-listen'] !== undefined) set('vmListen', '--vm-listen', v['vm-listen']);
  if (v['vm-allow-peer'] !== undefined) set('vmAllowPeers', '--vm-allow-peer', v['vm-allow-peer']);
  if (v['sol-device'] !== undefined || v['sol-baud'] !== undefined) {
    const sol: Record<string, unknown> = {};
    if (v['sol-device'] !== undefined) sol.device = v['sol-device'];
    if (v['sol-baud'] !== undefined) sol.baud = toInt('--sol-baud', v['sol-baud']);
    set('sol', '--sol-device', sol);
  }
  if (v.iana !== undefined) set('iana', '--iana', toInt('--iana', v.iana));
  if (v['queue-capacity'] !== undefined) set('queueCapacity', '--queue-capacity', toInt('--queue-capacity', v['queue-capacity']));
  if (v['max-record'] !== undefined) set('maxRecord', '--max-record', toInt('--max-record', v['max-record']));
  if (v['state-dir'] !== undefined) set('stateDir', '--state-dir', v['state-dir']);
  if (v['cipher-suites'] !== undefined) {
    set('cipherSuites', '--cipher-suites', v['cipher-suites'].split(',').filter((s) => s.trim() !== '').map((s) => toInt('--cipher-suites', s)));
  }
  if (v['host-power'] !== undefined || v['power-command'] !== undefined || v['power-status-command'] !== undefined) {
    const hp: Record<string, unknown> = { backend: v['host-power'] ?? 'command' };
    if (v['power-command'] !== undefined) hp.controlCommand = v['power-command'];
    if (v['power-status-command'] !== undefined) hp.statusCommand = v['power-status-command'];
    set('hostPower', '--host-power', hp);
  }
  if (v.metrics !== undefined) set('metrics', '--metrics', v.metrics);
  if (v['log-level'] !== undefined) set('logLevel', '--log-level', v['log-level']);
  const result: CliResult = { help: v.help === true, version: v.version === true, overrides: o as RawConfig, flagFor };
  if (v.config !== undefined) result.configFile = v.config;
  return result;
}
