/**
 * CLI and service configuration: flags over environment over a JSON config
 * file over defaults. The result is one frozen object.
 *
 * Config file: --config FILE, else $BACKCHANNEL_CONFIG, else
 * ~/.config/backchannel/vms-agent.json when it exists, else the system-wide
 * /etc/vms-agent/vms-agent.json (the service's, docs/deploy.md) when this
 * user can read it. Keys: url, token,
 * tokenFile, db (SQLite file or postgres:// URL), masterKeyFile, listen
 * ("host:port"), logLevel, stepSeconds, skewSteps, pollMinMs, pollMaxMs,
 * serviceKeySignsRequests, custodialKeySignsRequests, linkLeaseMs,
 * rmcpTimeoutMs, rmcpRetries, shutdownGraceMs, tlsCertFile, tlsKeyFile,
 * alertSinks (alerts/sink-config.ts, docs/alert-delivery.md),
 * hostTransports ({"HOST_ID": "sol"}: reach that host over Serial-over-LAN
 * through a stock BMC instead of the OEM queues; docs/sol.md),
 * postgres (an object: PostgreSQL session timeouts, keepalive and pool
 * limits, store/postgres-session.ts).
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseAlertSinks, type SinkConfig } from '../alerts/sink-config.js';
import { DEFAULT_POSTGRES_SESSION, type PostgresSessionSettings, postgresSessionSettings } from '../store/postgres-session.js';
import { usage } from './cli-error.js';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './shutdown.js';

export interface VmsAgentConfig {
  url: string;
  token: string | undefined;
  db: string;
  masterKeyFile: string | undefined;
  listenHost: string;
  listenPort: number;
  logLevel: string;
  stepSeconds: number;
  skewSteps: number;
  pollMinMs: number;
  pollMaxMs: number;
  /** Sign requests of operator-held principals with the service key (for agents that accept manager keys). */
  serviceKeySignsRequests: boolean;
  /**
   * Also sign requests of custodial principals with their key. Off by default: the
   * challenge response carries that same key's signature over the request's digest,
   * and without a second signature a request fits one BMC record.
   */
  custodialKeySignsRequests: boolean;
  /** PostgreSQL store: how long a replica's heartbeat and link leases last without renewal (takeover time after a crash); heartbeat every third of it. */
  linkLeaseMs: number;
  /** RMCP+ client: per-attempt wait for a BMC answer, and retransmissions before the session counts as lost. */
  rmcpTimeoutMs: number;
  rmcpRetries: number;
  /** serve: how long a graceful stop may take before the process exits anyway (code 1). */
  shutdownGraceMs: number;
  /** `serve`: PEM certificate chain and key for HTTPS (both or neither). */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** Where `serve` delivers alerts (syslog, webhooks); none by default. */
  alertSinks: readonly SinkConfig[];
  /** How the link reaches each host's BMC: "oem" (the OEM buffer queues, the default) or "sol" (docs/sol.md). */
  hostTransports: Readonly<Record<string, 'oem' | 'sol'>>;
  /** PostgreSQL store: per-connection timeouts, TCP keepalive, pool limits (defaults: DEFAULT_POSTGRES_SESSION). */
  postgres: Readonly<PostgresSessionSettings>;
}

export const DEFAULT_PORT = 8480;

/** The service's configuration as the packages install it (docs/deploy.md); the last place the CLI looks. */
export const SYSTEM_CONFIG_FILE = '/etc/vms-agent/vms-agent.json';

export interface ConfigFlags {
  config?: string | undefined;
  url?: string | undefined;
  token?: string | undefined;
  db?: string | undefined;
  'master-key-file'?: string | undefined;
  listen?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
}

type FileConfig = Partial<
  Record<'url' | 'token' | 'tokenFile' | 'db' | 'masterKeyFile' | 'listen' | 'logLevel' | 'tlsCertFile' | 'tlsKeyFile', string> &
    Record<'stepSeconds' | 'skewSteps' | 'pollMinMs' | 'pollMaxMs' | 'linkLeaseMs' | 'rmcpTimeoutMs' | 'rmcpRetries' | 'shutdownGraceMs', number> & Record<'serviceKeySignsRequests' | 'custodialKeySignsRequests', boolean> & { alertSinks: readonly SinkConfig[]; hostTransports: Record<string, 'oem' | 'sol'>; postgres: Partial<PostgresSessionSettings> }
>;

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The config file to read, or undefined for none: an explicit one must exist; the defaults are used only when present (and, for the system one, readable). */
function configPath(flags: ConfigFlags, env: NodeJS.ProcessEnv, systemFile: string): string | undefined {
  const explicit = flags.config ?? env.BACKCHANNEL_CONFIG;
  if (explicit) return explicit;
  const user = join(homedir(), '.config', 'backchannel', 'vms-agent.json');
  if (existsSync(user)) return user;
  return existsSync(systemFile) && readable(systemFile) ? systemFile : undefined;
}

function readConfigFile(path: string | undefined): FileConfig {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw usage(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`config file ${path} must hold a JSON object`);
  const known = new Set(['url', 'token', 'tokenFile', 'db', 'masterKeyFile', 'listen', 'logLevel', 'stepSeconds', 'skewSteps', 'pollMinMs', 'pollMaxMs', 'serviceKeySignsRequests', 'custodialKeySignsRequests', 'linkLeaseMs', 'rmcpTimeoutMs', 'rmcpRetries', 'shutdownGraceMs', 'tlsCertFile', 'tlsKeyFile', 'alertSinks', 'hostTransports', 'postgres']);
  for (const [k, v] of Object.entries(parsed)) {
    if (!known.has(k)) throw usage(`config file ${path}: unknown key "${k}" (known: ${[...known].join(', ')})`);
    if (k === 'alertSinks') {
      try {
        (parsed as Record<string, unknown>).alertSinks = parseAlertSinks(v, dirname(resolve(path)));
      } catch (err) {
        throw usage(`config file ${path}: ${(err as Error).message}`);
      }
      continue;
    }
    if (k === 'serviceKeySignsRequests' || k === 'custodialKeySignsRequests') {
      if (typeof v !== 'boolean') throw usage(`config file ${path}: "${k}" must be true or false`);
      continue;
    }
    if (k === 'hostTransports') {
      const ok = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((t) => t === 'oem' || t === 'sol');
      if (!ok) throw usage(`config file ${path}: "hostTransports" must map host ids to "oem" or "sol", e.g. {"hv1": "sol"}`);
      continue;
    }
    if (k === 'postgres') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw usage(`config file ${path}: "postgres" must be an object (keys: ${Object.keys(DEFAULT_POSTGRES_SESSION).join(', ')})`);
      for (const key of Object.keys(v)) {
        if (!(key in DEFAULT_POSTGRES_SESSION)) throw usage(`config file ${path}: unknown key "postgres.${key}" (known: ${Object.keys(DEFAULT_POSTGRES_SESSION).join(', ')})`);
      }
      try {
        postgresSessionSettings(v as Partial<PostgresSessionSettings>);
      } catch (err) {
        throw usage(`config file ${path}: ${(err as Error).message}`);
      }
      continue;
    }
    if (k === 'shutdownGraceMs') {
      if (!(Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 600_000)) throw usage(`config file ${path}: "${k}" must be an integer in 100..600000 (ms)`);
      continue;
    }
    if (k === 'linkLeaseMs') {
      if (!(Number.isInteger(v) && (v as number) >= 1000)) throw usage(`config file ${path}: "${k}" must be an integer of at least 1000 (ms)`);
      continue;
    }
    // The RMCP+ client's own bounds (src/rmcp/open-session.ts).
    if (k === 'rmcpTimeoutMs' || k === 'rmcpRetries') {
      const [min, max] = k === 'rmcpTimeoutMs' ? [1, 60_000] : [0, 20];
      if (!(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) throw usage(`config file ${path}: "${k}" must be an integer in ${min}..${max}`);
      continue;
    }
    const numeric = ['stepSeconds', 'skewSteps', 'pollMinMs', 'pollMaxMs'].includes(k);
    if (numeric ? !(Number.isInteger(v) && (v as number) >= 0) : typeof v !== 'string') {
      throw usage(`config file ${path}: "${k}" must be ${numeric ? 'a non-negative integer' : 'a string'}`);
    }
  }
  return parsed as FileConfig;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw usage(`--listen must be HOST:PORT, got "${text}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/** tokenFile: relative to the config file; one line (surrounding white space, such as the final newline, is ignored). */
function readTokenFile(tokenFile: string, configFile: string): string {
  const path = resolve(dirname(configFile), tokenFile);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw usage(`config file ${configFile}: cannot read tokenFile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, systemFile: string = SYSTEM_CONFIG_FILE): Readonly<VmsAgentConfig> {
  const path = configPath(flags, env, systemFile);
  const file = readConfigFile(path);
  // Only read when no token came from a flag or the environment: an unreadable token file must not break "--token".
  const tokenFromFile = file.tokenFile && path && !(flags.token ?? env.BACKCHANNEL_TOKEN ?? file.token) ? readTokenFile(file.tokenFile, path) : undefined;
  const listen = parseListen(flags.listen ?? env.BACKCHANNEL_LISTEN ?? file.listen ?? `127.0.0.1:${DEFAULT_PORT}`);
  return Object.freeze({
    url: (flags.url ?? env.BACKCHANNEL_URL ?? file.url ?? `http://127.0.0.1:${DEFAULT_PORT}`).replace(/\/+$/, ''),
    token: flags.token ?? env.BACKCHANNEL_TOKEN ?? file.token ?? tokenFromFile,
    db: flags.db ?? env.BACKCHANNEL_DB ?? file.db ?? 'vms-agent.db',
    masterKeyFile: flags['master-key-file'] ?? env.BACKCHANNEL_MASTER_KEY_FILE ?? file.masterKeyFile,
    listenHost: listen.host,
    listenPort: listen.port,
    logLevel: env.BACKCHANNEL_LOG_LEVEL ?? file.logLevel ?? 'info',
    stepSeconds: file.stepSeconds ?? 30,
    skewSteps: file.skewSteps ?? 1,
    pollMinMs: file.pollMinMs ?? 50,
    pollMaxMs: file.pollMaxMs ?? 1000,
    serviceKeySignsRequests: file.serviceKeySignsRequests ?? false,
    custodialKeySignsRequests: file.custodialKeySignsRequests ?? false,
    linkLeaseMs: file.linkLeaseMs ?? 3_000,
    rmcpTimeoutMs: file.rmcpTimeoutMs ?? 1000,
    rmcpRetries: file.rmcpRetries ?? 3,
    shutdownGraceMs: file.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    tlsCertFile: flags['tls-cert'] ?? file.tlsCertFile,
    tlsKeyFile: flags['tls-key'] ?? file.tlsKeyFile,
    alertSinks: file.alertSinks ?? [],
    hostTransports: Object.freeze({ ...file.hostTransports }),
    postgres: Object.freeze(postgresSessionSettings(file.postgres)),
  });
}
