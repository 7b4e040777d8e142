/**
 * A system-interface listener: `unix:/PATH`, `serial:/DEV@BAUD` or
 * `tcp:HOST:PORT` (PROTOCOL.md §4). Whoever holds the connection acts as the
 * host: it reads queue 1 and fills queue 2. So:
 * - a unix socket is created owner-only (0600 unless configured);
 * - a TCP listener logs a warning at start (any local user, or anyone who
 *   can route to it, can connect), and may be limited to given peer
 *   addresses;
 * - one host connection at a time, and the connection in place wins. A
 *   second connection waits `takeoverGraceMs` for the first to go (a host
 *   that reconnects usually closed the old one just before); if the first
 *   is still there, the newcomer is refused and that is a security event
 *   (SEL record, log, metric): over a unix socket or loopback the kernel
 *   tells us when a peer is gone, so a second connection while the first
 *   lives is never a reconnect. Only over a real network can the old one be
 *   half-open (the host lost power): a non-loopback TCP connection silent
 *   for `staleAfterMs` is replaced by the newcomer, with a warning.
 * A serial line is one permanent "connection" and is reopened if the
 * device goes away.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { VmListenSpec } from '../config/address.js';
import type { HostInterfaceState } from './host-interface-state.js';
import { openSerialLine, type SerialLine } from './serial-device.js';
import { emptyVmStats, type SystemDispatch, VmSession, type VmSessionLogger, type VmStats } from './vm-session.js';

export interface VmListenerStats extends VmStats {
  connections: number;
  /** Silent network connections replaced by a newcomer (a host that lost power and came back). */
  replacedConnections: number;
  /** Newcomers refused while a live host connection was in place (security events). */
  takeoversRefused: number;
  /** TCP connections from an address not in the allowed peers. */
  peersRefused: number;
  disconnects: number;
}

export function emptyListenerStats(): VmListenerStats {
  return { ...emptyVmStats(), connections: 0, replacedConnections: 0, takeoversRefused: 0, peersRefused: 0, disconnects: 0 };
}

export interface VmListenerLogger extends VmSessionLogger {
  error(obj: object, msg: string): void;
}

export interface HostLinkTakeover {
  listen: string;
  /** The newcomer's address (undefined for a unix socket). */
  remote: string | undefined;
}

export interface VmListenerOptions {
  spec: VmListenSpec;
  dispatch: SystemDispatch;
  state: HostInterfaceState;
  logger?: VmListenerLogger;
  /** Delay before reopening a serial device that failed (ms). */
  serialRetryMs?: number;
  maxInFlight?: number;
  /** File mode of a unix socket (default 0600). */
  socketMode?: number;
  /** TCP: accept only these peer addresses (all when empty). */
  allowPeers?: readonly string[];
  /** How long a second connection waits for the first to close (default 1000 ms). */
  takeoverGraceMs?: number;
  /** A non-loopback TCP connection silent this long may be replaced (default 30 s). */
  staleAfterMs?: number;
  now?: () => number;
  /** A newcomer was refused while a live host connection was in place. */
  onTakeover?: (event: HostLinkTakeover) => void;
}

/** What to do with a newcomer when the connection in place did not close within the grace time. */
export function takeoverDecision(o: { kind: 'tcp' | 'unix'; loopback: boolean; silentMs: number; staleAfterMs: number }): 'replace' | 'refuse' {
  if (o.kind === 'unix' || o.loopback) return 'refuse';
  return o.silentMs >= o.staleAfterMs ? 'replace' : 'refuse';
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

function normalisePeer(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

export class VmListener {
  readonly stats: VmListenerStats = emptyListenerStats();
  readonly #o: VmListenerOptions;
  readonly #now: () => number;
  #state: HostInterfaceState;
  #server: Server | undefined;
  #socket: Socket | undefined;
  #lastHeard = 0;
  #waiting: Socket | undefined;
  /** Called when the connection in place goes away while a newcomer waits. */
  #onFree: (() => void) | undefined;
  #serial: SerialLine | undefined;
  #session: VmSession | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #address = '';

  private constructor(options: VmListenerOptions) {
    this.#o = options;
    this.#state = options.state;
    this.#now = options.now ?? Date.now;
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

  /** True while a host is connected. */
  get connected(): boolean {
    return this.#session !== undefined;
  }

  ringDoorbell(): void {
    this.#session?.ringDoorbell();
  }

  /**
   * A BMC reset: new sessions use `state` (the new queue engine's), and the
   * current host connection is dropped (a serial line starts a new session
   * on the same line) so the host starts afresh, as after a real reset.
   */
  reset(state: HostInterfaceState): void {
    this.#state = state;
    if (this.#serial !== undefined) {
      const line = this.#serial;
      this.#endSession();
      this.#startSerialSession(line);
      return;
    }
    const socket = this.#socket;
    this.#socket = undefined;
    this.#endSession();
    socket?.destroy();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#endSession();
    this.#socket?.destroy();
    this.#waiting?.destroy();
    this.#serial?.close();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #newSession(write: (bytes: Uint8Array) => void, answerVersion: boolean): VmSession {
    const opts = { dispatch: this.#o.dispatch, state: this.#state, write, stats: this.stats, answerVersion } as const;
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
      // Whoever can open the socket can act as the host: owner only unless configured otherwise.
      chmodSync(spec.path, this.#o.socketMode ?? 0o600);
      this.#address = `unix:${spec.path}`;
    } else if (a !== null && typeof a === 'object') {
      this.#address = `tcp:${a.address}:${a.port}`;
      const peers = this.#o.allowPeers ?? [];
      this.#o.logger?.warn(
        { listen: this.#address, allowPeers: peers },
        peers.length === 0
          ? 'host link on TCP: anyone who can connect to it can act as the host; prefer unix: or serial:, or set vmAllowPeers'
          : 'host link on TCP, limited to the allowed peers; prefer unix: or serial: where possible',
      );
    }
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const spec = this.#o.spec;
    const remote = spec.kind === 'tcp' ? normalisePeer(socket.remoteAddress) : undefined;
    const peers = this.#o.allowPeers ?? [];
    if (spec.kind === 'tcp' && peers.length > 0 && !peers.includes(remote ?? '')) {
      this.stats.peersRefused++;
      this.#o.logger?.warn({ listen: spec.text, remote }, 'host link connection from an address not allowed; closed');
      socket.destroy();
      return;
    }
    if (this.#socket === undefined) {
      this.#attach(socket);
      return;
    }
    // One host at a time. Give the connection in place a moment to close
    // (a host that reconnects has usually just closed it), then decide.
    if (this.#waiting !== undefined) this.#refuse(this.#waiting, remote, 'another connection is already waiting');
    this.#waiting = socket;
    socket.on('error', () => undefined);
    const decide = (): void => {
      clearTimeout(timer);
      if (this.#waiting !== socket) return;
      this.#waiting = undefined;
      if (socket.destroyed || this.#closed) {
        socket.destroy();
        return;
      }
      const previous = this.#socket;
      if (previous === undefined) {
        this.#attach(socket);
        return;
      }
      const verdict = takeoverDecision({
        kind: spec.kind === 'unix' ? 'unix' : 'tcp',
        loopback: isLoopback(previous.remoteAddress),
        silentMs: this.#now() - this.#lastHeard,
        staleAfterMs: this.#o.staleAfterMs ?? 30_000,
      });
      if (verdict === 'refuse') {
        this.#refuse(socket, remote, 'a live host connection is in place');
        return;
      }
      this.stats.replacedConnections++;
      this.#o.logger?.warn({ listen: spec.text, remote, silentMs: this.#now() - this.#lastHeard }, 'host connection silent for long: replaced by a new one (the host probably lost power)');
      this.#socket = undefined;
      this.#endSession();
      previous.destroy();
      this.#attach(socket);
    };
    const timer = setTimeout(decide, this.#o.takeoverGraceMs ?? 1000);
    this.#onFree = decide;
    socket.once('close', () => {
      if (this.#waiting === socket) {
        clearTimeout(timer);
        this.#waiting = undefined;
      }
    });
  }

  #refuse(socket: Socket, remote: string | undefined, why: string): void {
    this.stats.takeoversRefused++;
    this.#o.logger?.warn({ listen: this.#o.spec.text, remote, why }, 'second host connection refused: possible takeover of the host link');
    this.#o.onTakeover?.({ listen: this.#o.spec.text, remote });
    socket.destroy();
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    this.#lastHeard = this.#now();
    if (this.#o.spec.kind === 'tcp') {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 15_000);
    }
    this.#o.logger?.info({ listen: this.#o.spec.text }, 'VM host connected');
    const session = this.#newSession((bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    }, false);
    socket.on('data', (chunk: Buffer) => {
      this.#lastHeard = this.#now();
      session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on('error', (err) => this.#o.logger?.warn({ err: err.message, listen: this.#o.spec.text }, 'VM host connection error'));
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (this.#session === session) this.#endSession();
      this.#o.logger?.info({ listen: this.#o.spec.text }, 'VM host disconnected');
      const next = this.#onFree;
      this.#onFree = undefined;
      if (this.#waiting !== undefined) next?.();
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
      this.#startSerialSession(line);
      line.input.on('data', (chunk: Buffer) => this.#session?.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
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

  #startSerialSession(line: SerialLine): void {
    this.#newSession((bytes) => {
      if (!line.output.destroyed) line.output.write(bytes);
    }, true);
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
