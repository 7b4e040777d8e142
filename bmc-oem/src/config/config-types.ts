/** The validated, defaulted, frozen configuration every part of the daemon receives. */
import type { PrivilegeLevel, PrivilegeName } from '../commands/privilege.js';
import type { HostPort, VmListenSpec } from './address.js';
import type { Secret } from './secret.js';
import type { SolConfig } from '../sol/sol-service.js';

export interface UserConfig {
  name: string;
  privilege: PrivilegeLevel;
  privilegeName: PrivilegeName;
  password: Secret;
  passwordFile: string;
}

export interface SessionLimits {
  /** Bound on sessions (established and in setup). */
  max: number;
  /** Bound on sessions still in setup (Open Session → RAKP 3), so unauthenticated floods cannot fill the table. */
  maxPending: number;
  /** A session that has not finished RAKP within this time is discarded (and counts as a failed attempt once RAKP 2 was sent). */
  setupTimeoutMs: number;
  /** An established session with no valid packet for this long is closed. */
  idleTimeoutMs: number;
  /** Sessions (in setup after RAKP 1, or active) one user name may hold, so one account cannot fill the table. */
  perUser: number;
  /** Sessions (any state) one source address may hold. */
  perSource: number;
  /** Handshakes one source address may have in setup; a further Open Session from it evicts its own oldest. */
  perSourcePending: number;
}

/** Growing delays for a source that keeps failing to log in as a user (see rmcp/login-throttle.ts). */
export interface LoginThrottleConfig {
  /** Failures per (source, user) that cost nothing. */
  freeFailures: number;
  /** The wait after the first failure beyond the free ones; it doubles per further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A source that has not failed for this long starts afresh. */
  forgetAfterMs: number;
}

/** FRU inventory text fields (IPMI Platform Management FRU Information Storage Definition v1.0). */
export interface FruConfig {
  chassis?: { type?: number; partNumber?: string; serialNumber?: string };
  board?: { manufacturer?: string; productName?: string; serialNumber?: string; partNumber?: string };
  product?: { manufacturer?: string; name?: string; partNumber?: string; version?: string; serialNumber?: string; assetTag?: string };
}

export interface SensorConfig {
  /** Read temperatures from Linux thermal zones under `thermalDir`. */
  thermal: boolean;
  thermalDir: string;
}

export interface HostPowerConfig {
  backend: 'none' | 'command';
  controlCommand?: string;
  statusCommand?: string;
  /** Run `controlCommand identify` on Chassis Identify. */
  identify?: boolean;
}

export interface DeviceConfig {
  /** Configured GUID in wire order; when absent the daemon persists a random one in stateDir (or draws one per start). */
  guid?: Uint8Array;
  deviceId: number;
  productId: number;
  firmwareMajor: number;
  firmwareMinor: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface BmcConfig {
  listen: HostPort;
  users: readonly UserConfig[];
  vmListen: readonly VmListenSpec[];
  iana: number;
  queueCapacity: number;
  maxRecord: number;
  stateDir?: string;
  cipherSuites: readonly number[];
  metrics?: HostPort;
  logLevel: LogLevel;
  sessions: SessionLimits;
  loginThrottle: LoginThrottleConfig;
  hostPower: HostPowerConfig;
  device: DeviceConfig;
  /** IPMI user ids 1..maxUsers (1 is the fixed null user, never enabled). */
  maxUsers: number;
  /** SEL entries kept; a full SEL answers Add SEL Entry with 0xC4 (out of space), sets the overflow flag and counts the audit records it drops. */
  selCapacity: number;
  fru: FruConfig;
  sensors: SensorConfig;
  /** File mode of `unix:` VM listener sockets (owner only by default). */
  vmSocketMode: number;
  /** When set, TCP VM listeners accept connections only from these addresses. */
  vmAllowPeers: readonly string[];
  /** Serial-over-LAN to the host's serial port; absent: SOL answers 0xC1 as before. */
  sol?: SolConfig;
}

export const DEFAULTS = {
  listen: '0.0.0.0:623',
  iana: 32473,
  queueCapacity: 65536,
  maxRecord: 200,
  cipherSuites: [17, 3],
  logLevel: 'info',
  sessions: { max: 1024, maxPending: 128, setupTimeoutMs: 10_000, idleTimeoutMs: 60_000, perUser: 64, perSource: 128, perSourcePending: 16 },
  loginThrottle: { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 300_000, forgetAfterMs: 900_000 },
  maxUsers: 16,
  selCapacity: 512,
  sensors: { thermal: true, thermalDir: '/sys/class/thermal' },
  vmSocketMode: 0o600,
  device: { deviceId: 0x20, productId: 0x0001, firmwareMajor: 0, firmwareMinor: 1 },
} as const;
