/**
 * A system-interface listener: `tcp:HOST:PORT`, `unix:/PATH` or
 * `serial:/DEV@BAUD` (PROTOCOL.md §4). One host connection at a time: while
 * one is up, a further connection is closed at once and counted (a stale
 * peer is found by TCP keepalive). A serial line is one permanent
 * "connection" and is reopened if the device goes away.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { VmListenSpec } from '../config/address.js';
import type { HostInterfaceState } from './host-interface-state.js';
import { openSerialLine, type SerialLine } from './serial-device.js';
import { emptyVmStats, type SystemDispatch, VmSession, type VmSessionLogger, type VmStats } from './vm-session.js';

export interface VmListenerStats extends VmStats {
  connections: number;
  /** Connections closed because the host connected again. */
  replacedConnections: number;
  disconnects: number;
}

export interface VmListenerLogger extends VmSessionLogger {
  error(obj: object, msg: string): void;
}

export interface VmListenerOptions {
  spec: VmListenSpec;
  dispatch: SystemDispatch;
  state: HostInterfaceState;
  logger?: VmListenerLogger;
  /** Delay before reopening a serial device that failed (ms). */
  serialRetryMs?: number;
  maxInFlight?: number;
}

export class VmListener {
  readonly stats: VmListenerStats = { ...emptyVmStats(), connections: 0, replacedConnections: 0, disconnects: 0 };
  readonly #o: VmListenerOptions;
  #server: Server | undefined;
  #socket: Socket | undefined;
  #serial: SerialLine | undefined;
  #session: VmSession | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #address = '';

  private constructor(options: VmListenerOptions) {
    this.#o = options;
  }

  static async open(options: VmListenerOptions): Promise<VmListener> {
    const l = new VmListener(options);
    if (options.spec.kind === 'serial') await l.#openSerial();
    else await l.#listen();
    return l;
  }

  /** Where it listens, with the real port for `tcp:…:0`. */
  get address(): string {
    return this.#address;
  }

  get session(): VmSession | undefined {
    return this.#session;
  }

  ringDoorbell(): void {
    this.#session?.ringDoorbell();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#endSession();
    this.#socket?.destroy();
    this.#serial?.close();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #newSession(write: (bytes: Uint8Array) => void, answerVersion: boolean): VmSession {
    const opts = { dispatch: this.#o.dispatch, state: this.#o.state, write, stats: this.stats, answerVersion } as const;
    const session = new VmSession({
      ...opts,
      ...(this.#o.logger ? { logger: this.#o.logger } : {}),
      ...(this.#o.maxInFlight === undefined ? {} : { maxInFlight: this.#o.maxInFlight }),
    });
    this.#session = session;
    this.stats.connections++;
    session.start();
    return session;
  }

  #endSession(): void {
    if (!this.#session) return;
    this.#session.close();
    this.#session = undefined;
    this.stats.disconnects++;
  }

  async #listen(): Promise<void> {
    const spec = this.#o.spec;
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    server.on('error', (err) => this.#o.logger?.error({ err, listen: spec.text }, 'VM listener error'));
    if (spec.kind === 'unix') removeStaleSocket(spec.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (spec.kind === 'tcp') server.listen(spec.port, spec.host, () => resolve());
      else if (spec.kind === 'unix') server.listen(spec.path, () => resolve());
      server.off('error', reject);
    });
    const a = server.address();
    if (spec.kind === 'unix') {
      // Whoever can open the socket can act as the host; keep it to the owner and group.
      chmodSync(spec.path, 0o660);
      this.#address = `unix:${spec.path}`;
    } else if (a !== null && typeof a === 'object') {
      this.#address = `tcp:${a.address}:${a.port}`;
    }
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    // One host at a time, and the newest connection wins: a host that connects
    // again has given up on its old connection, which may be half-open (the
    // host crashed or lost power) and, left alone, would lock it out until TCP
    // keepalive noticed, many minutes later.
    const previous = this.#socket;
    if (previous !== undefined) {
      this.stats.replacedConnections++;
      this.#o.logger?.warn({ listen: this.#o.spec.text, remote: socket.remoteAddress }, 'VM host connected again: closing the previous connection');
      this.#socket = undefined;
      this.#endSession();
      previous.destroy();
    }
    this.#socket = socket;
    if (this.#o.spec.kind === 'tcp') {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 15_000);
    }
    this.#o.logger?.info({ listen: this.#o.spec.text }, 'VM host connected');
    const session = this.#newSession((bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    }, false);
    socket.on('data', (chunk: Buffer) => session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on('error', (err) => this.#o.logger?.warn({ err: err.message, listen: this.#o.spec.text }, 'VM host connection error'));
    socket.on('close', () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#endSession();
        this.#o.logger?.info({ listen: this.#o.spec.text }, 'VM host disconnected');
      }
    });
  }

  async #openSerial(): Promise<void> {
    const spec = this.#o.spec;
    if (spec.kind !== 'serial') return;
    this.#address = `serial:${spec.path}@${spec.baud}`;
    try {
      const line = await openSerialLine(spec.path, spec.baud);
      if (this.#closed) {
        line.close();
        return;
      }
      this.#serial = line;
      const session = this.#newSession((bytes) => {
        if (!line.output.destroyed) line.output.write(bytes);
      }, true);
      line.input.on('data', (chunk: Buffer) => session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      const lost = (why: string) => (err?: Error) => {
        if (this.#serial !== line) return;
        this.#serial = undefined;
        line.close();
        this.#endSession();
        if (this.#closed) return;
        this.#o.logger?.warn({ listen: spec.text, why, err: err?.message }, 'serial line lost; reopening');
        this.#scheduleSerialRetry();
      };
      line.input.on('error', lost('read error'));
      line.output.on('error', lost('write error'));
      line.input.on('end', lost('end of input'));
      this.#o.logger?.info({ listen: spec.text }, 'serial line open');
    } catch (err) {
      // The first open must work (a typo in the device should stop the daemon); later ones are retried.
      if (this.#retry === undefined && this.stats.connections === 0) throw err;
      this.#o.logger?.warn({ err: (err as Error).message, listen: spec.text }, 'serial line reopen failed');
      this.#scheduleSerialRetry();
    }
  }

  #scheduleSerialRetry(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      void this.#openSerial();
    }, this.#o.serialRetryMs ?? 2000);
    this.#retry.unref();
  }
}

/** A unix socket left by a crashed run blocks listen(); remove it, but never a file that is not a socket. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
