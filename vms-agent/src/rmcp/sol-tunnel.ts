/**
 * The link's BmcSession over a SOL console: each OEM queue request becomes a
 * tunnel frame (proto/src/serial-framing) on the host's serial line, where
 * the hypervisor-agent holds the queues and answers. One request at a time;
 * a frame lost to noise, a dropped packet or a line glitch is sent again
 * under the same id (queue requests are idempotent: Put by seq, Get by
 * commit), and an answer to an older id is ignored.
 */
import { decodeTunnelMessage, encodeSerialFrame, encodeTunnelMessage, SerialFrameDecoder } from '@backchannel/proto';
import type { Clock } from './clock.js';
import { SolError, type SolConsole } from './sol-console.js';

export interface SolTunnelOptions {
  clock: Clock;
  /** Wait for an answer before sending the frame again, on top of the time the bytes take on the line. */
  retransmitMs?: number;
  /** Line rate in bytes per second (115200 baud ≈ 11520): frames take time to cross it. */
  lineBytesPerSecond?: number;
  /** A request unanswered this long fails (the link then reconnects). */
  giveUpMs?: number;
  /** Closes what is under the console (deactivate, close the session). */
  close: () => Promise<void>;
}

interface Pending {
  id: number;
  frame: Uint8Array;
  firstSentAt: number;
  sends: number;
  timer: unknown;
  resolve: (r: { cc: number; data: Uint8Array }) => void;
  reject: (e: Error) => void;
}

export interface SolTunnelStats {
  requests: number;
  resent: number;
  noiseDropped: number;
}

export class SolTunnel {
  readonly stats: SolTunnelStats = { requests: 0, resent: 0, noiseDropped: 0 };
  readonly #decoder = new SerialFrameDecoder();
  readonly #queue: (() => void)[] = [];
  #pending: Pending | undefined;
  #nextId = 1;
  #ended: Error | undefined;

  constructor(
    private readonly console: SolConsole,
    private readonly o: SolTunnelOptions,
  ) {
    console.onData((bytes) => this.#onData(bytes));
    console.onEnd((reason) => this.#fail(reason));
  }

  request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }> {
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      const start = () => {
        if (this.#ended) return reject(this.#ended);
        const id = this.#nextId;
        this.#nextId = id >= 0xffff ? 1 : id + 1;
        const frame = encodeSerialFrame(encodeTunnelMessage({ kind: 'request', id, netfn, cmd, data }));
        this.#pending = { id, frame, firstSentAt: this.o.clock.now(), sends: 0, timer: undefined, resolve, reject };
        this.stats.requests++;
        this.#send();
      };
      if (this.#pending) this.#queue.push(start);
      else start();
    });
  }

  async close(): Promise<void> {
    this.#fail(new SolError('ERR_SOL_ENDED', 'SOL tunnel closed'));
    await this.o.close();
  }

  #rto(frameBytes: number): number {
    const line = ((frameBytes + 64) * 2 * 1000) / (this.o.lineBytesPerSecond ?? 11_520);
    return (this.o.retransmitMs ?? 800) + line;
  }

  #send(): void {
    const p = this.#pending!;
    if (p.sends > 0) this.stats.resent++;
    p.sends++;
    this.console.write(p.frame);
    p.timer = this.o.clock.setTimeout(() => this.#timeout(p), this.#rto(p.frame.length) * Math.min(4, p.sends));
  }

  #timeout(p: Pending): void {
    if (this.#pending !== p) return;
    if (this.o.clock.now() - p.firstSentAt >= (this.o.giveUpMs ?? 10_000)) {
      this.#pending = undefined;
      p.reject(new SolError('ERR_SOL_ENDED', `no answer through SOL for ${this.o.giveUpMs ?? 10_000} ms (is the hypervisor-agent on the host serial port?)`));
      this.#next();
      return;
    }
    this.#send();
  }

  #onData(bytes: Uint8Array): void {
    const s = this.#decoder.stats;
    const before = s.badCrc + s.badEncoding + s.short + s.oversize;
    for (const frame of this.#decoder.push(bytes)) {
      let m;
      try {
        m = decodeTunnelMessage(frame);
      } catch {
        this.stats.noiseDropped++;
        continue;
      }
      const p = this.#pending;
      if (m.kind !== 'response' || !p || m.id !== p.id) continue;
      this.o.clock.clearTimeout(p.timer);
      this.#pending = undefined;
      p.resolve({ cc: m.cc, data: m.data });
      this.#next();
    }
    this.stats.noiseDropped += s.badCrc + s.badEncoding + s.short + s.oversize - before;
  }

  #next(): void {
    const start = this.#queue.shift();
    if (start) start();
  }

  #fail(reason: Error): void {
    if (this.#ended) return;
    this.#ended = reason;
    const p = this.#pending;
    this.#pending = undefined;
    if (p) {
      this.o.clock.clearTimeout(p.timer);
      p.reject(reason);
    }
    for (const start of this.#queue.splice(0)) start();
  }
}
