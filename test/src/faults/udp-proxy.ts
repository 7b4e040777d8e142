/**
 * A seeded UDP proxy for fault injection between an RMCP+ client and a BMC:
 * it listens on 127.0.0.1, forwards each client's datagrams to the target
 * from a per-client socket, and on the way in both directions drops,
 * duplicates, reorders (holds one back until the next) and delays datagrams
 * with the configured probabilities. Same seed, same decisions.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { seededRandom } from './seeded-random.js';

export interface UdpFaults {
  drop: number; // probability 0..1
  duplicate: number;
  reorder: number;
  delay: number;
  delayMs: [min: number, max: number];
}

export const NO_FAULTS: UdpFaults = { drop: 0, duplicate: 0, reorder: 0, delay: 0, delayMs: [0, 0] };

export interface UdpProxyStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

export class UdpFaultProxy {
  readonly stats: UdpProxyStats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, delayed: 0 };
  faults: UdpFaults;
  /** Set to drop everything matching, e.g. "the first response" in a test. */
  filter: ((direction: 'to-target' | 'to-client', datagram: Buffer) => 'pass' | 'drop') | null = null;
  readonly #front: Socket;
  readonly #clients = new Map<string, { socket: Socket; info: RemoteInfo }>();
  readonly #random: () => number;
  readonly #held = new Map<string, () => void>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  private constructor(front: Socket, readonly targetPort: number, faults: UdpFaults, seed: number, readonly targetHost: string) {
    this.#front = front;
    this.faults = faults;
    this.#random = seededRandom(seed);
  }

  static async start(options: { targetPort: number; targetHost?: string; faults?: UdpFaults; seed?: number }): Promise<UdpFaultProxy> {
    const front = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, '127.0.0.1', () => resolve());
    });
    const proxy = new UdpFaultProxy(front, options.targetPort, options.faults ?? NO_FAULTS, options.seed ?? 1, options.targetHost ?? '127.0.0.1');
    front.on('message', (msg, info) => proxy.#fromClient(msg, info));
    return proxy;
  }

  get port(): number {
    return this.#front.address().port;
  }

  #fromClient(msg: Buffer, info: RemoteInfo): void {
    const key = `${info.address}:${info.port}`;
    let client = this.#clients.get(key);
    if (!client) {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      socket.on('message', (reply) => this.#deliver('to-client', key, reply, (d) => this.#front.send(d, info.port, info.address)));
      socket.on('error', () => undefined);
      client = { socket, info };
      this.#clients.set(key, client);
    }
    const socket = client.socket;
    this.#deliver('to-target', key, msg, (d) => socket.send(d, this.targetPort, this.targetHost));
  }

  #deliver(direction: 'to-target' | 'to-client', key: string, datagram: Buffer, send: (d: Buffer) => void): void {
    if (this.#closed) return;
    if (this.filter?.(direction, datagram) === 'drop') {
      this.stats.dropped++;
      return;
    }
    const f = this.faults;
    if (this.#random() < f.drop) {
      this.stats.dropped++;
      return;
    }
    const copies = this.#random() < f.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const emit = () => {
      for (let i = 0; i < copies; i++) this.#safeSend(send, datagram);
      this.stats.forwarded++;
    };
    const lane = `${direction}:${key}`;
    // Reorder: hold this datagram back and release it after the next one in the same lane.
    const previouslyHeld = this.#held.get(lane);
    if (previouslyHeld) this.#held.delete(lane);
    if (!previouslyHeld && this.#random() < f.reorder) {
      this.stats.reordered++;
      this.#held.set(lane, emit);
      // Never hold forever: release after the maximum delay if nothing follows.
      this.#later(() => {
        if (this.#held.get(lane) === emit) {
          this.#held.delete(lane);
          emit();
        }
      }, Math.max(50, f.delayMs[1]));
      return;
    }
    const go = () => {
      emit();
      previouslyHeld?.();
    };
    if (this.#random() < f.delay) {
      this.stats.delayed++;
      const [min, max] = f.delayMs;
      this.#later(go, min + this.#random() * (max - min));
    } else {
      go();
    }
  }

  #safeSend(send: (d: Buffer) => void, datagram: Buffer): void {
    try {
      send(datagram);
    } catch {
      // socket closing; the datagram is lost like any other
    }
  }

  #later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(timer);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const { socket } of this.#clients.values()) socket.close();
    this.#clients.clear();
    await new Promise<void>((resolve) => this.#front.close(() => resolve()));
  }
}
