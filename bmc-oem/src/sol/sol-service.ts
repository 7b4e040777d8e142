/**
 * SOL in the daemon: the settings, the bridge, the host serial line, and
 * the one timer that drives retransmission. Outlives a cold reset (the
 * RMCP+ server it seals through is looked up each time), so the host line
 * stays connected while sessions are rebuilt.
 */
import { PayloadType } from '@backchannel/proto';
import type { Logger } from 'pino';
import type { CommandRegistry } from '../commands/registry.js';
import type { PrivilegeLevel } from '../commands/privilege.js';
import type { RmcpServer } from '../rmcp/rmcp-server.js';
import { HostSerial } from './host-serial.js';
import { SolBridge } from './sol-bridge.js';
import { registerSolCommands } from './sol-commands.js';
import type { SolDeviceSpec } from './sol-device.js';
import { SolSettings } from './sol-settings.js';

export interface SolConfig {
  device: SolDeviceSpec;
  baud: number;
  enabled: boolean;
  privilege: PrivilegeLevel;
  retryCount: number;
  retryIntervalMs: number;
}

export interface SolServiceOptions {
  config: SolConfig;
  now: () => number;
  logger: Logger;
  /** The RMCP+ UDP port (reported by Activate Payload and parameter 8). */
  port: () => number;
  server: () => RmcpServer;
  sendTo: (datagram: Uint8Array, peer: string) => void;
}

export class SolService {
  readonly settings: SolSettings;
  readonly bridge: SolBridge;
  readonly host: HostSerial;
  #timer: NodeJS.Timeout | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(private readonly o: SolServiceOptions) {
    const c = o.config;
    this.settings = new SolSettings({ enabled: c.enabled, privilege: c.privilege, baud: c.baud, retryCount: c.retryCount, retryIntervalMs: c.retryIntervalMs, port: o.port });
    this.bridge = new SolBridge(
      this.settings,
      {
        alive: (id) => o.server().sessions.get(id)?.state === 'active',
        send: (id, payload) => {
          const sealed = o.server().sealPayload(id, PayloadType.SOL, payload);
          if (sealed) o.sendTo(sealed.datagram, sealed.peer);
        },
      },
      { write: (bytes) => this.host.write(bytes), sendBreak: () => o.logger.info('SOL break requested (not carried to a socket host line)') },
    );
    this.host = new HostSerial({
      spec: c.device,
      baud: c.baud,
      onData: (bytes) => {
        this.bridge.fromHost(bytes, o.now());
        this.#schedule();
      },
      onState: (up, detail) => o.logger[up ? 'info' : 'warn']({ device: c.device.text, detail }, up ? 'SOL host serial line up' : 'SOL host serial line down; reconnecting'),
    });
    this.settings.onBaudChange((baud) => this.host.setBaud(baud));
  }

  start(): void {
    this.host.start();
    // Notices a console whose session ended without deactivating.
    this.#sweep = setInterval(() => this.bridge.tick(this.o.now()), 1000);
    this.#sweep.unref();
  }

  register(registry: CommandRegistry): void {
    registerSolCommands(registry, {
      bridge: this.bridge,
      settings: this.settings,
      now: this.o.now,
      onChange: (what, sessionId, by) => this.o.logger.info({ session: sessionId.toString(16), by: by?.toString(16) }, `SOL ${what}`),
    });
  }

  /** RmcpServer's solPayload hook. */
  readonly onPayload = (sessionId: number, payload: Uint8Array): Uint8Array | undefined => {
    const reply = this.bridge.fromConsole(sessionId, payload, this.o.now());
    this.#schedule();
    return reply;
  };

  close(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#sweep);
    this.host.close();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const at = this.bridge.nextDeadline();
    if (at === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.bridge.tick(this.o.now());
        this.#schedule();
      },
      Math.max(0, at - this.o.now()),
    );
  }
}
