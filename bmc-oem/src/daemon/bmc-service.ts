/**
 * The part of the daemon a cold reset rebuilds: the command table and
 * every store behind it (queues, SEL, users, chassis, boot options, LAN
 * settings, FRU, SDR) and the RMCP+ server with its sessions. What outlives
 * a reset (sockets, listeners, the login throttle, metrics, the host-power
 * backend) is passed in as `ServiceShared`. With a state directory the
 * stores reload what they kept; without one everything starts afresh and
 * the queues under a new epoch.
 */
import { encodeCipherSuiteRecords, standardCipherSuiteRecord, type RandomBytes } from '@backchannel/proto';
import type { Logger } from 'pino';
import { BootOptions } from '../chassis/boot-options.js';
import { ChassisState } from '../chassis/chassis-state.js';
import { registerChannelCommands } from '../commands/channel-commands.js';
import type { DeviceIdentity } from '../commands/device-identity.js';
import { FULL_DEVICE_SUPPORT } from '../commands/device-commands.js';
import type { HostPowerBackend } from '../commands/host-power-port.js';
import { registerResetCommands, type ResetRequest } from '../commands/mc-reset-commands.js';
import { CommandRegistry } from '../commands/registry.js';
import { registerStandardCommands } from '../commands/standard-commands.js';
import type { BmcConfig } from '../config/config-types.js';
import { registerFruCommands } from '../fru/fru-commands.js';
import { FruStore } from '../fru/fru-store.js';
import { registerLanCommands } from '../lan/lan-commands.js';
import { LanConfig } from '../lan/lan-config.js';
import { readNetworkFacts } from '../lan/network-facts.js';
import { FileQueueStore } from '../queues/file-queue-store.js';
import { QueueEngine } from '../queues/queue-engine.js';
import { registerQueueCommands } from '../queues/register-queue-commands.js';
import type { LoginThrottle } from '../rmcp/login-throttle.js';
import type { RmcpEvents } from '../rmcp/rmcp-events.js';
import { RmcpServer } from '../rmcp/rmcp-server.js';
import type { SolService } from '../sol/sol-service.js';
import { registerSdrCommands, SdrRepository } from '../sdr/sdr-commands.js';
import { buildSdrRepository, buildSensors } from '../sdr/sensors.js';
import { registerSelCommands } from '../sel/sel-commands.js';
import { SelStore } from '../sel/sel-store.js';
import { HostInterfaceState } from '../system-interface/host-interface-state.js';
import { registerSystemInterfaceCommands } from '../system-interface/kcs-commands.js';
import { registerUserCommands } from '../users/user-commands.js';
import { UserTable } from '../users/user-table.js';
import type { BmcAudit } from './bmc-audit.js';
import { QueueAudit } from './queue-audit.js';

/** The LAN channel number reported by Get Channel Authentication Capabilities, Cipher Suites, Channel Info. */
export const LAN_CHANNEL = 1;

export interface ServiceShared {
  config: BmcConfig;
  logger: Logger;
  now: () => number;
  randomBytes: RandomBytes;
  identity: DeviceIdentity;
  hostPower: HostPowerBackend;
  throttle: LoginThrottle;
  events: RmcpEvents;
  audit: BmcAudit;
  requestReset: ResetRequest;
  /** True while a host is connected to the system interface. */
  hostLinkUp: () => boolean;
  onHandlerFault: (name: string, err: unknown) => void;
  /** Serial-over-LAN, when configured (src/sol): its commands and the SOL payload hook. */
  sol?: SolService;
}

export interface BmcService {
  registry: CommandRegistry;
  server: RmcpServer;
  queues: QueueEngine;
  hostState: HostInterfaceState;
  sel: SelStore;
  users: UserTable;
  chassis: ChassisState;
  boot: BootOptions;
  lan: LanConfig;
  fru: FruStore;
  sdr: SdrRepository;
  /** Closes the stores that hold files open (the queue journal). */
  close(): void;
}

/** The tagged algorithm bytes of the enabled suites, for Get Channel Cipher Suites "list algorithms". */
export function supportedAlgorithmBytes(records: Uint8Array): Uint8Array {
  const seen: number[] = [];
  for (const b of records) {
    // Record starts (0xC0/0xC1) and suite ids are not algorithm tags.
    if ((b & 0xc0) === 0xc0) continue;
    if (!seen.includes(b)) seen.push(b);
  }
  return Uint8Array.from(seen);
}

export function buildService(shared: ServiceShared): BmcService {
  const { config, logger, now } = shared;
  const stateDir = config.stateDir;
  const dir = stateDir === undefined ? {} : { stateDir };
  const closers: (() => void)[] = [];
  try {
    const sel = new SelStore({ capacity: config.selCapacity, now, ...dir });
    const users = new UserTable({ maxUsers: config.maxUsers, seed: config.users, logger, ...dir });
    const chassis = new ChassisState({ now, ...dir });
    const boot = new BootOptions(dir);
    const lan = new LanConfig({ suites: config.cipherSuites, facts: () => readNetworkFacts(config.listen.host), ...dir });
    const fru = new FruStore({ fru: config.fru, ...dir });
    const registry = new CommandRegistry();
    registry.onHandlerFault(shared.onHandlerFault);

    const server: RmcpServer = new RmcpServer({
      registry,
      users,
      cipherSuites: config.cipherSuites,
      sessions: config.sessions,
      throttle: shared.throttle,
      suitePrivilegeLimit: (suite) => lan.suiteLimit(suite),
      guid: shared.identity.guid,
      now,
      randomBytes: shared.randomBytes,
      events: shared.events,
      ...(shared.sol === undefined ? {} : { solPayload: shared.sol.onPayload }),
    });

    const suiteRecords = encodeCipherSuiteRecords(config.cipherSuites.map((id) => standardCipherSuiteRecord(id)));
    registerStandardCommands(registry, {
      identity: shared.identity,
      hostPower: shared.hostPower,
      deviceSupport: FULL_DEVICE_SUPPORT,
      chassis: {
        state: chassis,
        boot,
        onPowerAction: (action, outcome, ctx) => shared.audit.powerAction(action, outcome, ctx.channel, ctx.session?.userId ?? 0),
      },
      lanChannel: LAN_CHANNEL,
      cipherSuiteRecords: suiteRecords,
      supportedAlgorithms: supportedAlgorithmBytes(suiteRecords),
      closeSession: (id) => server.closeSessionById(id),
    });
    registerChannelCommands(registry, { lanChannel: LAN_CHANNEL, maxSessions: config.sessions.max, activeSessions: () => server.activeSessions() });
    registerResetCommands(registry, shared.requestReset);
    registerSelCommands(registry, sel);
    registerUserCommands(registry, {
      users,
      lanChannel: LAN_CHANNEL,
      onChange: (what, id, ctx) => shared.audit.userChanged(what, id, ctx.channel, ctx.session?.userId ?? 0),
    });
    registerLanCommands(registry, lan, LAN_CHANNEL);
    registerFruCommands(registry, fru);
    const sensors = buildSensors({ hostPower: shared.hostPower, hostLinkUp: shared.hostLinkUp, thermal: { enabled: config.sensors.thermal, dir: config.sensors.thermalDir } });
    const sdr = new SdrRepository(buildSdrRepository(sensors, FULL_DEVICE_SUPPORT), sensors, sel.time());
    registerSdrCommands(registry, sdr);
    shared.sol?.register(registry);

    // The OEM buffer queues (PROTOCOL.md §2), durable when a state directory is configured.
    const store = stateDir === undefined ? undefined : new FileQueueStore({ stateDir, logger });
    if (store !== undefined) closers.push(() => store.close());
    const queues = new QueueEngine({
      iana: config.iana,
      capacityBytes: config.queueCapacity,
      maxRecord: config.maxRecord,
      randomBytes: shared.randomBytes,
      ...(store === undefined ? {} : { store }),
      logger,
    });
    registerQueueCommands(registry, queues);
    const hostState = new HostInterfaceState(queues);
    registerSystemInterfaceCommands(registry, hostState);

    const queueAudit = new QueueAudit(config.iana, (id) => server.sessions.get(id)?.peer, (queue, seq, peer, user) => shared.audit.queueSeqCollision(queue, seq, peer, user));
    registry.onDispatched((ctx, req, outcome) => queueAudit.observe(ctx, req, outcome));

    return {
      registry,
      server,
      queues,
      hostState,
      sel,
      users,
      chassis,
      boot,
      lan,
      fru,
      sdr,
      close: () => {
        for (const c of closers.reverse()) c();
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) c();
    throw err;
  }
}
