/**
 * Turns the command line (and the config file it names) into one validated,
 * defaulted, frozen BmcConfig. Passwords come only from files; the files are
 * read here, once, and held as Secret.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseHostPort, parseVmListen } from './address.js';
import { parseCli } from './cli.js';
import { parseSolDevice, SOL_BAUD_RATES } from '../sol/sol-device.js';
import { DEFAULTS, type BmcConfig, type UserConfig } from './config-types.js';
import { Secret } from './secret.js';
import type { RawConfig } from './schema.js';
import { validateRawConfig } from './validate.js';
import { guidFromUuid } from '../commands/device-identity.js';
import { privilegeFromName } from '../commands/privilege.js';

/** The default host-link socket, in the state directory. */
export const DEFAULT_VM_SOCKET = 'host.sock';

/** RAKP keys are built from a password of at most 20 bytes (IPMI v2.0 §13.31). */
export const MAX_PASSWORD_BYTES = 20;

export interface LoadedConfig {
  config: BmcConfig;
  /** Things worth logging once the logger exists (e.g. a password file others can read). */
  warnings: string[];
}

export type LoadResult = { kind: 'help' } | { kind: 'version' } | ({ kind: 'run' } & LoadedConfig);

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError('--config', `${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function readPassword(field: string, path: string, warnings: string[]): Secret {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
    const mode = statSync(path).mode;
    if ((mode & 0o077) !== 0) warnings.push(`${field}: ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); use 0600`);
  } catch (err) {
    throw new ConfigError(field, `cannot read password file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // One line: a single trailing newline (LF or CRLF) is not part of the password.
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const pw = bytes.subarray(0, end);
  if (pw.length === 0) throw new ConfigError(field, `password file ${path} is empty`);
  if (pw.length > MAX_PASSWORD_BYTES) throw new ConfigError(field, `password in ${path} is longer than ${MAX_PASSWORD_BYTES} bytes`);
  if (pw.includes(0x0a)) throw new ConfigError(field, `password file ${path} has more than one line`);
  const secret = new Secret(pw);
  bytes.fill(0);
  return secret;
}

/**
 * Applies defaults and reads password files. `fileBase` resolves relative
 * paths of a config file's users (relative to that file); `flagFor` names
 * flags in errors.
 */
export function resolveConfig(raw: RawConfig, fileBase: string, flagFor: Record<string, string> = {}): LoadedConfig {
  const warnings: string[] = [];
  const usersFromFlags = flagFor.users !== undefined;
  const userField = (i: number, key: string): string => (usersFromFlags ? `--user #${i + 1} (${key})` : `users[${i}].${key}`);
  const rawUsers = raw.users ?? [];
  if (rawUsers.length === 0) throw new ConfigError('users', 'at least one user is required (--user NAME:PRIVILEGE:PASSWORD_FILE)');
  const seen = new Set<string>();
  const users: UserConfig[] = rawUsers.map((u, i) => {
    if (seen.has(u.name)) throw new ConfigError(userField(i, 'name'), `duplicate user name "${u.name}"`);
    seen.add(u.name);
    const path = isAbsolute(u.passwordFile) ? u.passwordFile : resolve(usersFromFlags ? process.cwd() : fileBase, u.passwordFile);
    return Object.freeze({
      name: u.name,
      privilege: privilegeFromName(u.privilege),
      privilegeName: u.privilege,
      password: readPassword(userField(i, 'passwordFile'), path, warnings),
      passwordFile: path,
    });
  });
  const listenField = flagFor.listen ?? 'listen';
  const hostPower = raw.hostPower ?? { backend: 'none' as const };
  const device = { ...DEFAULTS.device, ...raw.device };
  const config: BmcConfig = {
    listen: parseHostPort(listenField, raw.listen ?? DEFAULTS.listen),
    users: Object.freeze(users),
    vmListen: Object.freeze(
      (raw.vmListen ?? [])
        .filter((s) => s !== 'none')
        .map((s, i) => Object.freeze(parseVmListen(flagFor.vmListen ?? `vmListen[${i}]`, s))),
    ),
    iana: raw.iana ?? DEFAULTS.iana,
    queueCapacity: raw.queueCapacity ?? DEFAULTS.queueCapacity,
    maxRecord: raw.maxRecord ?? DEFAULTS.maxRecord,
    cipherSuites: Object.freeze([...(raw.cipherSuites ?? DEFAULTS.cipherSuites)]),
    logLevel: raw.logLevel ?? DEFAULTS.logLevel,
    sessions: Object.freeze({ ...DEFAULTS.sessions, ...raw.sessions }),
    loginThrottle: Object.freeze({ ...DEFAULTS.loginThrottle, ...raw.loginThrottle }),
    maxUsers: raw.maxUsers ?? DEFAULTS.maxUsers,
    selCapacity: raw.selCapacity ?? DEFAULTS.selCapacity,
    fru: Object.freeze(structuredClone(raw.fru ?? {})),
    sensors: Object.freeze({ ...DEFAULTS.sensors, ...raw.sensors }),
    vmSocketMode: raw.vmSocketMode === undefined ? DEFAULTS.vmSocketMode : Number.parseInt(raw.vmSocketMode, 8),
    vmAllowPeers: Object.freeze([...(raw.vmAllowPeers ?? [])]),
    hostPower: Object.freeze({ ...hostPower }),
    device: Object.freeze({
      deviceId: device.deviceId,
      productId: device.productId,
      firmwareMajor: device.firmwareMajor,
      firmwareMinor: device.firmwareMinor,
      ...(raw.device?.guid === undefined ? {} : { guid: guidFromUuid(raw.device.guid) }),
    }),
  };
  if (raw.stateDir !== undefined) config.stateDir = resolve(flagFor.stateDir === undefined ? fileBase : process.cwd(), raw.stateDir);
  if (raw.vmListen !== undefined && raw.vmListen.includes('none') && raw.vmListen.length > 1) {
    throw new ConfigError(flagFor.vmListen ?? 'vmListen', '"none" cannot be combined with listeners');
  }
  // The host link listens on an owner-only unix socket in the state directory
  // unless told otherwise ("none" turns it off).
  if (raw.vmListen === undefined && config.stateDir !== undefined) {
    config.vmListen = Object.freeze([Object.freeze(parseVmListen('vmListen', `unix:${join(config.stateDir, DEFAULT_VM_SOCKET)}`))]);
  }
  if (raw.sol !== undefined) {
    const field = flagFor.sol ?? 'sol.device';
    if (raw.sol.device === undefined) throw new ConfigError(field, 'SOL needs a device (tcp:HOST:PORT, unix:/PATH or serial:/DEV[@BAUD])');
    const device = parseSolDevice(field, raw.sol.device);
    const baud = raw.sol.baud ?? (device.kind === 'serial' ? device.baud : undefined) ?? 115200;
    if (!(SOL_BAUD_RATES as readonly number[]).includes(baud)) throw new ConfigError(flagFor.sol === undefined ? 'sol.baud' : '--sol-baud', `must be one of ${SOL_BAUD_RATES.join(', ')}`);
    config.sol = Object.freeze({
      device: Object.freeze(device),
      baud,
      enabled: raw.sol.enabled ?? true,
      privilege: privilegeFromName(raw.sol.privilege ?? 'user'),
      retryCount: raw.sol.retryCount ?? 7,
      retryIntervalMs: raw.sol.retryIntervalMs ?? 500,
    });
  }
  if (raw.metrics !== undefined) config.metrics = parseHostPort(flagFor.metrics ?? 'metrics', raw.metrics);
  if (config.loginThrottle.baseDelayMs > config.loginThrottle.maxDelayMs) {
    throw new ConfigError('loginThrottle.baseDelayMs', `must not exceed loginThrottle.maxDelayMs (${config.loginThrottle.maxDelayMs})`);
  }
  if (config.users.length >= config.maxUsers) {
    throw new ConfigError('maxUsers', `must exceed the number of configured users (${config.users.length}); user id 1 is the null user`);
  }
  for (const [i, peer] of config.vmAllowPeers.entries()) {
    if (isIP(peer) === 0) throw new ConfigError(flagFor.vmAllowPeers ?? `vmAllowPeers[${i}]`, `expected an IP address, got "${peer}"`);
  }
  if (config.sessions.maxPending > config.sessions.max) {
    throw new ConfigError('sessions.maxPending', `must not exceed sessions.max (${config.sessions.max})`);
  }
  if (config.maxRecord > config.queueCapacity) {
    throw new ConfigError(flagFor.maxRecord ?? 'maxRecord', `must not exceed queueCapacity (${config.queueCapacity})`);
  }
  return { config: Object.freeze(config), warnings };
}

/** The whole path from argv to a frozen config (or a request for help/version). */
export function loadConfig(argv: readonly string[]): LoadResult {
  const cli = parseCli(argv);
  if (cli.help) return { kind: 'help' };
  if (cli.version) return { kind: 'version' };
  let fileRaw: Record<string, unknown> = {};
  let fileBase = process.cwd();
  if (cli.configFile !== undefined) {
    const parsed = readConfigFile(cli.configFile);
    // Validate the file on its own first so its errors name file fields, not flags.
    fileRaw = validateRawConfig(parsed) as Record<string, unknown>;
    fileBase = dirname(resolve(cli.configFile));
  }
  const merged = validateRawConfig({ ...fileRaw, ...cli.overrides }, cli.flagFor);
  return { kind: 'run', ...resolveConfig(merged, fileBase, cli.flagFor) };
}
