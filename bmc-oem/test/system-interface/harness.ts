/** A system interface over the real command table, queue engine and TCP, for tests. */
import { randomBytes } from 'node:crypto';
import { encodeOemRequest, type OemQueueRequest, oemRequestCommand } from '@backchannel/proto';
import { registerChannelCommands } from '../../src/commands/channel-commands.js';
import { registerDeviceCommands } from '../../src/commands/device-commands.js';
import { CommandRegistry } from '../../src/commands/registry.js';
import { QueueEngine } from '../../src/queues/queue-engine.js';
import { registerQueueCommands } from '../../src/queues/register-queue-commands.js';
import { HostInterfaceState } from '../../src/system-interface/host-interface-state.js';
import { registerSystemInterfaceCommands } from '../../src/system-interface/kcs-commands.js';
import { SystemInterface } from '../../src/system-interface/system-interface.js';
import type { VmListenSpec } from '../../src/config/address.js';
import type { HostLinkTakeover } from '../../src/system-interface/vm-listener.js';
import type { Req } from '../queues/helpers.js';

export const IANA = 32473;

export interface Harness {
  engine: QueueEngine;
  registry: CommandRegistry;
  si: SystemInterface;
  port: number;
  /** A LAN-side call into the same command table, as the RMCP+ server makes it. */
  lan(req: Req, privilege?: 2 | 3 | 4): Promise<{ cc: number; data: Uint8Array }>;
  close(): Promise<void>;
}

export async function startHarness(opts: { capacityBytes?: number; specs?: VmListenSpec[]; takeoverGraceMs?: number; onTakeover?: (e: HostLinkTakeover) => void } = {}): Promise<Harness> {
  const engine = new QueueEngine({ iana: IANA, randomBytes: (n) => new Uint8Array(randomBytes(n)), ...(opts.capacityBytes ? { capacityBytes: opts.capacityBytes } : {}) });
  const registry = new CommandRegistry();
  registerDeviceCommands(registry, { deviceId: 0x20, deviceRevision: 1, firmwareMajor: 0, firmwareMinor: 1, manufacturerId: IANA, productId: 1, guid: new Uint8Array(16).fill(0x5a) });
  registerQueueCommands(registry, engine);
  const state = new HostInterfaceState(engine);
  registerSystemInterfaceCommands(registry, state);
  registerChannelCommands(registry, { lanChannel: 1, maxSessions: 0, activeSessions: () => [] });
  const si = await SystemInterface.open({
    specs: opts.specs ?? [{ kind: 'tcp', host: '127.0.0.1', port: 0, text: 'tcp:127.0.0.1:0' }],
    dispatch: (ctx, req) => registry.dispatch(ctx, req),
    engine,
    state,
    ...(opts.takeoverGraceMs === undefined ? {} : { takeoverGraceMs: opts.takeoverGraceMs }),
    ...(opts.onTakeover === undefined ? {} : { onTakeover: opts.onTakeover }),
  });
  const port = Number(si.listeners[0]?.address.split(':').at(-1));
  return {
    engine,
    registry,
    si,
    port,
    lan: async (req, privilege = 3) => {
      const full = { ...req, iana: IANA } as OemQueueRequest;
      const session = { id: 1, handle: 1, userId: 2, userName: 'oper', maxPrivilege: privilege, setPrivilege: () => undefined, closeAfterResponse: () => undefined };
      return registry.dispatch({ channel: 'lan', privilege, lun: 0, session }, { netfn: 0x2e, cmd: oemRequestCommand(full), data: encodeOemRequest(full) });
    },
    close: () => si.close(),
  };
}

export function queueRequestBytes(req: Req): { cmd: number; data: Uint8Array } {
  const full = { ...req, iana: IANA } as OemQueueRequest;
  return { cmd: oemRequestCommand(full), data: encodeOemRequest(full) };
}
