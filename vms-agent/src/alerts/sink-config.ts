/**
 * The `alertSinks` key of the vms-agent config file: where alerts go
 * (docs/alert-delivery.md). Validated here, once, into typed frozen
 * objects; files the sinks need (webhook secret, CA, client certificate)
 * are named here and read when `serve` starts.
 *
 *   "alertSinks": [
 *     { "name": "siem", "type": "syslog", "transport": "tls", "address": "siem.example:6514", "caFile": "ca.pem" },
 *     { "name": "chat", "type": "webhook", "url": "https://hooks.example/x", "secretFile": "chat.whsec" }
 *   ]
 */
import { resolve } from 'node:path';
import { DEFAULT_RETRY, type RetryPolicy } from './retry-schedule.js';
import { FACILITIES, type Facility } from './syslog-format.js';

interface SinkCommon {
  name: string;
  retry: RetryPolicy;
  /** One attempt's time limit (connect, send, answer), ms. */
  timeoutMs: number;
}

export interface SyslogSinkConfig extends SinkCommon {
  type: 'syslog';
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  facility: Facility;
  /** TLS: PEM CA bundle the server's certificate must chain to (default: the system's). */
  caFile?: string;
  /** TLS: client certificate and key (PEM) for servers that ask for one. */
  certFile?: string;
  keyFile?: string;
  /** TLS: the name the certificate must carry (default: host). */
  serverName?: string;
}

export interface WebhookSinkConfig extends SinkCommon {
  type: 'webhook';
  url: string;
  /** File holding the `whsec_…` secret the body is signed with. */
  secretFile: string;
  /** HTTPS: PEM CA bundle (default: the system's). */
  caFile?: string;
}

export type SinkConfig = SyslogSinkConfig | WebhookSinkConfig;

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const COMMON = ['name', 'type', 'maxAttempts', 'retryBaseMs', 'retryMaxMs', 'timeoutMs'];
const KEYS = {
  syslog: [...COMMON, 'transport', 'address', 'facility', 'caFile', 'certFile', 'keyFile', 'serverName'],
  webhook: [...COMMON, 'url', 'secretFile', 'caFile'],
};
const DEFAULT_PORT = { udp: 514, tcp: 514, tls: 6514 } as const;

function parseAddress(text: string, transport: 'udp' | 'tcp' | 'tls', where: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] !== undefined ? Number(m[3]) : DEFAULT_PORT[transport];
  if (!m || port < 1 || port > 65535) throw new Error(`${where}: "address" must be HOST or HOST:PORT (got "${text}")`);
  return { host: (m[1] ?? m[2])!, port };
}

function int(o: Record<string, unknown>, key: string, min: number, max: number, fallback: number, where: string): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new Error(`${where}: "${key}" must be an integer in ${min}..${max}`);
  return v as number;
}

function str(o: Record<string, unknown>, key: string, where: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`${where}: "${key}" must be a non-empty string`);
  return v;
}

/** Parses the `alertSinks` value; relative file names are relative to `baseDir` (the config file's directory). Throws with the offending sink and key. */
export function parseAlertSinks(value: unknown, baseDir: string): readonly SinkConfig[] {
  if (!Array.isArray(value)) throw new Error('"alertSinks" must be an array of sinks');
  const seen = new Set<string>();
  const sinks = value.map((raw, i): SinkConfig => {
    let where = `alertSinks[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where} must be an object`);
    const o = raw as Record<string, unknown>;
    const name = str(o, 'name', where, true)!;
    if (!NAME.test(name)) throw new Error(`${where}: "name" must be 1-63 of a-z, 0-9, _ and -, starting with a letter or digit (got "${name}")`);
    if (seen.has(name)) throw new Error(`${where}: a sink named "${name}" is already configured`);
    seen.add(name);
    where = `alertSinks "${name}"`;
    const type = o.type;
    if (type !== 'syslog' && type !== 'webhook') throw new Error(`${where}: "type" must be "syslog" or "webhook"`);
    for (const k of Object.keys(o)) if (!KEYS[type].includes(k)) throw new Error(`${where}: unknown key "${k}" for a ${type} sink (known: ${KEYS[type].join(', ')})`);
    const retry: RetryPolicy = {
      maxAttempts: int(o, 'maxAttempts', 1, 1_000_000, DEFAULT_RETRY.maxAttempts, where),
      baseMs: int(o, 'retryBaseMs', 10, 3_600_000, DEFAULT_RETRY.baseMs, where),
      maxMs: int(o, 'retryMaxMs', 10, 86_400_000, DEFAULT_RETRY.maxMs, where),
    };
    if (retry.maxMs < retry.baseMs) throw new Error(`${where}: "retryMaxMs" must be at least "retryBaseMs"`);
    const timeoutMs = int(o, 'timeoutMs', 100, 600_000, 10_000, where);
    const file = (key: string, required = false) => {
      const v = str(o, key, where, required);
      return v === undefined ? undefined : resolve(baseDir, v);
    };
    if (type === 'webhook') {
      const url = str(o, 'url', where, true)!;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new Error(`${where}: "url" is not a URL`);
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`${where}: "url" must be http:// or https://`);
      const caFile = file('caFile');
      return { name, type, retry, timeoutMs, url, secretFile: file('secretFile', true)!, ...(caFile ? { caFile } : {}) };
    }
    const transport = o.transport ?? 'udp';
    if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw new Error(`${where}: "transport" must be "udp", "tcp" or "tls"`);
    const { host, port } = parseAddress(str(o, 'address', where, true)!, transport, where);
    const facility = (o.facility ?? 'authpriv') as string;
    if (!(facility in FACILITIES)) throw new Error(`${where}: "facility" must be one of ${Object.keys(FACILITIES).join(', ')}`);
    const tlsOnly = ['caFile', 'certFile', 'keyFile', 'serverName'].filter((k) => o[k] !== undefined);
    if (transport !== 'tls' && tlsOnly.length) throw new Error(`${where}: ${tlsOnly.join(', ')} only apply with "transport": "tls"`);
    if ((o.certFile === undefined) !== (o.keyFile === undefined)) throw new Error(`${where}: "certFile" and "keyFile" go together`);
    const extra: Partial<SyslogSinkConfig> = {};
    const caFile = file('caFile');
    const certFile = file('certFile');
    const keyFile = file('keyFile');
    const serverName = str(o, 'serverName', where, false);
    if (caFile) extra.caFile = caFile;
    if (certFile) extra.certFile = certFile;
    if (keyFile) extra.keyFile = keyFile;
    if (serverName) extra.serverName = serverName;
    return { name, type, retry, timeoutMs, transport, host, port, facility: facility as Facility, ...extra };
  });
  return Object.freeze(sinks.map((s) => Object.freeze(s)));
}

/** Where a sink sends, without anything secret (a webhook URL's path and query often are the secret). */
export function sinkTarget(s: SinkConfig): string {
  if (s.type === 'syslog') return `syslog+${s.transport}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
  return new URL(s.url).origin;
}
