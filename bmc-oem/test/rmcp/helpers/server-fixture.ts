/** An RmcpServer with the standard commands, an injected clock and recorded events. */
import { randomBytes as nodeRandom } from 'node:crypto';
import { encodeCipherSuiteRecords, standardCipherSuiteRecord } from '@backchannel/proto';
import { CommandRegistry } from '../../../src/commands/registry.js';
import { registerStandardCommands } from '../../../src/commands/standard-commands.js';
import { Privilege } from '../../../src/commands/privilege.js';
import { Secret } from '../../../src/config/secret.js';
import type { LoginThrottleConfig, SessionLimits, UserConfig } from '../../../src/config/config-types.js';
import { UserTable } from '../../../src/users/user-table.js';
import { createNoneBackend } from '../../../src/host-power/none-backend.js';
import { supportedAlgorithmBytes } from '../../../src/daemon/daemon.js';
import { RmcpServer } from '../../../src/rmcp/rmcp-server.js';
import type { DropReason, RmcpEvents } from '../../../src/rmcp/rmcp-events.js';

export const GUID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function user(name: string, privilege: 'user' | 'operator' | 'administrator', password: string): UserConfig {
  const levels = { user: Privilege.User, operator: Privilege.Operator, administrator: Privilege.Administrator } as const;
  return { name, privilege: levels[privilege], privilegeName: privilege, password: new Secret(Buffer.from(password)), passwordFile: `/dev/null/${name}` };
}

export function serverFixture(overrides: { sessions?: Partial<SessionLimits>; suites?: number[]; throttle?: Partial<LoginThrottleConfig> } = {}) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const dropped: { reason: DropReason; detail: string }[] = [];
  const authFailures: string[] = [];
  const throttleStarts: string[] = [];
  const throttled: string[] = [];
  const limits: string[] = [];
  const ended: string[] = [];
  const events: RmcpEvents = {
    datagramDropped: (reason, _peer, detail) => dropped.push({ reason, detail }),
    sessionActivated: () => undefined,
    sessionEnded: (_s, why) => ended.push(why),
    authFailed: (u, why) => authFailures.push(`${u}: ${why}`),
    loginThrottleStarted: (u, source, failures, delayMs) => throttleStarts.push(`${u}@${source} after ${failures}: ${delayMs} ms`),
    loginThrottled: (u, peer) => throttled.push(`${u}@${peer}`),
    sessionLimitReached: (bound, peer, u) => limits.push(`${bound}:${u ?? peer}`),
    commandAnswered: () => undefined,
    handlerFault: () => undefined,
  };
  const suites = overrides.suites ?? [17, 3];
  const registry = new CommandRegistry();
  const records = encodeCipherSuiteRecords(suites.map((id) => standardCipherSuiteRecord(id)));
  const users = new UserTable({ maxUsers: 8, seed: [user('oper', 'operator', 'oper-pw'), user('admin', 'administrator', 'admin-pw'), user('viewer', 'user', 'viewer-pw')] });
  const server: RmcpServer = new RmcpServer({
    registry,
    users,
    cipherSuites: suites,
    sessions: { max: 8, maxPending: 4, setupTimeoutMs: 5000, idleTimeoutMs: 60_000, perUser: 8, perSource: 8, perSourcePending: 4, ...overrides.sessions },
    throttle: { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 60_000, forgetAfterMs: 600_000, ...overrides.throttle },
    guid: GUID,
    now: clock.now,
    randomBytes: (n) => new Uint8Array(nodeRandom(n)),
    events,
  });
  registerStandardCommands(registry, {
    identity: { deviceId: 0x20, deviceRevision: 1, firmwareMajor: 1, firmwareMinor: 2, manufacturerId: 32473, productId: 7, guid: GUID },
    hostPower: createNoneBackend(),
    lanChannel: 1,
    cipherSuiteRecords: records,
    supportedAlgorithms: supportedAlgorithmBytes(records),
    closeSession: (id) => server.closeSessionById(id),
  });
  return { server, clock, dropped, authFailures, throttleStarts, throttled, limits, ended, registry, users };
}
