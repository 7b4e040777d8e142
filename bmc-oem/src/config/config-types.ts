/** The validated, defaulted, frozen configuration every part of the daemon receives. */
import type { PrivilegeLevel, PrivilegeName } from '../commands/privilege.js';
import type { HostPort, VmListenSpec } from './address.js';
import type { Secret } from './secret.js';

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
}

export interface LockoutConfig {
  /** Failed RAKP attempts for one user name within `windowMs` that lock it. */
  maxFailures: number;
  windowMs: number;
  /** How long a locked user name is refused. */
  lockoutMs: number;
}

export interface HostPowerConfig {
  backend: 'none' | 'command';
  controlCommand?: string;
  statusCommand?: string;
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
  lockout: LockoutConfig;
  hostPower: HostPowerConfig;
  device: DeviceConfig;
}

export const DEFAULTS = {
  listen: '0.0.0.0:623',
  iana: 32473,
  queueCapacity: 65536,
  maxRecord: 200,
  cipherSuites: [17, 3],
  logLevel: 'info',
  sessions: { max: 1024, maxPending: 128, setupTimeoutMs: 10_000, idleTimeoutMs: 60_000 },
  lockout: { maxFailures: 5, windowMs: 60_000, lockoutMs: 300_000 },
  device: { deviceId: 0x20, productId: 0x0001, firmwareMajor: 0, firmwareMinor: 1 },
} as const;
