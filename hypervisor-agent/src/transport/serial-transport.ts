/**
 * BmcTransport for a host whose BMC is stock: the manager holds a SOL
 * session, the BMC bridges it to this host's serial port, and the channel
 * runs over that byte stream in CRC-checked COBS frames
 * (proto/src/serial-framing). The queues live here (serial-queues.ts); the
 * agent's own queue requests are answered in process, the manager's arrive
 * as tunnel frames and are answered on the line. The line reconnects by
 * itself (a socket in tests), so `request` never fails for line trouble:
 * the manager's retransmissions cover what was lost in between.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { decodeTunnelMessage, encodeSerialFrame, encodeTunnelMessage, type RandomBytes, SerialFrameDecoder } from '@backchannel/proto';
import type { BmcTransport, VmSerialTarget } from './bmc-transport.js';
import { SerialQueues } from './serial-queues.js';
import { describeSerialLink } from './serial-target.js';
import { openLink, type VmLink } from './vm-serial-link.js';

/**
 * Records on the serial path are not bound by an IPMI message (PROTOCOL.md's 200 bytes
 * is bmc-oem's): each Put or Get is a lockstep round trip over a ~11.5 kB/s line, so
 * larger records mean fewer round trips per message. 960 keeps a tunnel frame within
 * the decoders' 1024-byte bound (Get Record answer: 17 bytes of headers + record).
 */
export const SERIAL_MAX_RECORD = 960;

export interface SerialTransportOptions {
  timeoutMs?: number;
  reconnectMs?: number;
  randomBytes?: RandomBytes;
  maxRecord?: number;
  /** Line events for logs (up, down, noise dropped). */
  onEvent?: (event: string, detail?: Record<string, unknown>) => void;
}

export interface SerialTransportStats {
  framesIn: number;
  framesOut: number;
  /** Frames or runs thrown away (noise, truncation, bad CRC). */
  dropped: number;
  reconnects: number;
}

export class SerialTransport implements BmcTransport {
  readonly description: string;
  readonly queues: SerialQueues;
  readonly stats: SerialTransportStats = { framesIn: 0, framesOut: 0, dropped: 0, reconnects: 0 };
  readonly #listeners = new Set<() => void>();
  #link: VmLink | undefined;
  #decoder = new SerialFrameDecoder();
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly target: VmSerialTarget,
    private readonly o: SerialTransportOptions,
  ) {
    this.description = describeSerialLink(target);
    this.queues = new SerialQueues({
      randomBytes: o.randomBytes ?? ((n) => new Uint8Array(nodeRandomBytes(n))),
      maxRecord: o.maxRecord ?? SERIAL_MAX_RECORD,
      onToHost: () => queueMicrotask(() => this.#listeners.forEach((l) => l())),
    });
  }

  /** Opens the line (the first connect must succeed, so a wrong path fails at start) and starts serving the tunnel. */
  static async open(target: VmSerialTarget, o: SerialTransportOptions = {}): Promise<SerialTransport> {
    const t = new SerialTransport(target, o);
    t.#attach(await openLink(target, o.timeoutMs ?? 5000));
    return t;
  }

  request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }> {
    if (this.#closed) return Promise.reject(new Error(`${this.description} is closed`));
    return Promise.resolve(this.queues.handle('host', netfn, cmd, data));
  }

  onAttention(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#link?.close();
    this.#link = undefined;
    return Promise.resolve();
  }

  #attach(link: VmLink): void {
    this.#link = link;
    this.#decoder = new SerialFrameDecoder();
    link.onData((chunk) => this.#onData(chunk));
    link.onClose((reason) => {
      if (this.#link !== link) return;
      this.#link = undefined;
      if (this.#closed) return;
      this.o.onEvent?.('line down', { reason });
      this.#retry();
    });
    this.o.onEvent?.('line up', { link: this.description });
  }

  #retry(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#closed) return;
      openLink(this.target, this.o.timeoutMs ?? 5000).then(
        (link) => {
          if (this.#closed) return link.close();
          this.stats.reconnects++;
          this.#attach(link);
        },
        () => this.#retry(),
      );
    }, this.o.reconnectMs ?? 1000);
    this.#timer.unref();
  }

  #onData(chunk: Uint8Array): void {
    const before = this.#decoder.stats.badCrc + this.#decoder.stats.badEncoding + this.#decoder.stats.short + this.#decoder.stats.oversize;
    for (const frame of this.#decoder.push(chunk)) {
      let m;
      try {
        m = decodeTunnelMessage(frame);
      } catch {
        this.stats.dropped++;
        continue;
      }
      if (m.kind !== 'request') continue;
      this.stats.framesIn++;
      const r = this.queues.handle('manager', m.netfn, m.cmd, m.data);
      this.#link?.write(encodeSerialFrame(encodeTunnelMessage({ kind: 'response', id: m.id, cc: r.cc, data: r.data })));
      this.stats.framesOut++;
    }
    const s = this.#decoder.stats;
    const after = s.badCrc + s.badEncoding + s.short + s.oversize;
    if (after > before) {
      this.stats.dropped += after - before;
      this.o.onEvent?.('noise dropped', { frames: after - before });
    }
  }
}

export function openSerialTransport(target: VmSerialTarget, options: SerialTransportOptions = {}): Promise<BmcTransport> {
  return SerialTransport.open(target, options);
}
