/**
 * A null-modem cable in software for SOL tests: the BMC's SOL device
 * (ipmi_sim's `sol "tcp:..."`, bmc-oem's --sol-device) connects to one end,
 * the host's serial port user (the hypervisor-agent's `tcp:` link) to the
 * other, and bytes cross over. Bytes with nobody on the far end are lost, as
 * on a UART. Faults: garbage injected into either direction (a getty or the
 * kernel writing on the port), and cutting a side. With `bytesPerSecond`
 * each direction is paced like a UART (115200 baud 8N1 = 11,520 B/s).
 */
import { createServer, type Server, type Socket } from 'node:net';

type Side = 'bmc' | 'host';

export class NullModem {
  readonly #servers: Record<Side, Server>;
  readonly #sockets: Record<Side, Socket | undefined> = { bmc: undefined, host: undefined };
  readonly ports: Record<Side, number> = { bmc: 0, host: 0 };
  /** Bytes carried each way (host → bmc is what the BMC sends to the console). */
  readonly carried = { toHost: 0, toBmc: 0, injected: 0 };
  #tap: ((from: Side, bytes: Buffer) => Buffer) | undefined;
  /** When each direction's line is free again (ms, performance.now()). */
  readonly #freeAt: Record<Side, number> = { bmc: 0, host: 0 };

  private constructor(private readonly bytesPerSecond?: number) {
    const make = (side: Side) =>
      createServer((s) => {
        this.#sockets[side]?.destroy();
        this.#sockets[side] = s;
        s.setNoDelay(true);
        s.on('error', () => undefined);
        s.on('close', () => {
          if (this.#sockets[side] === s) this.#sockets[side] = undefined;
        });
        s.on('data', (b: Buffer) => {
          const out = this.#tap ? this.#tap(side, b) : b;
          const to: Side = side === 'bmc' ? 'host' : 'bmc';
          if (side === 'bmc') this.carried.toHost += out.length;
          else this.carried.toBmc += out.length;
          if (!this.bytesPerSecond) return void this.#sockets[to]?.write(out);
          // Paced: the chunk arrives when the line has shifted its last byte out.
          const now = performance.now();
          this.#freeAt[to] = Math.max(now, this.#freeAt[to]) + (out.length * 1000) / this.bytesPerSecond;
          setTimeout(() => this.#sockets[to]?.write(out), this.#freeAt[to] - now);
        });
      });
    this.#servers = { bmc: make('bmc'), host: make('host') };
  }

  static async open(options: { bytesPerSecond?: number } = {}): Promise<NullModem> {
    const m = new NullModem(options.bytesPerSecond);
    for (const side of ['bmc', 'host'] as const) {
      await new Promise<void>((r) => m.#servers[side].listen(0, '127.0.0.1', r));
      m.ports[side] = (m.#servers[side].address() as { port: number }).port;
    }
    return m;
  }

  connected(side: Side): boolean {
    return this.#sockets[side] !== undefined;
  }

  /** Writes noise towards `to` (as if the port's other user wrote it). */
  inject(to: Side, bytes: Uint8Array): void {
    this.carried.injected += bytes.length;
    this.#sockets[to]?.write(bytes);
  }

  /** Sees (and may change) every chunk crossing; undefined removes the tap. */
  tap(fn: ((from: Side, bytes: Buffer) => Buffer) | undefined): void {
    this.#tap = fn;
  }

  cut(side: Side): void {
    this.#sockets[side]?.destroy();
    this.#sockets[side] = undefined;
  }

  async close(): Promise<void> {
    for (const side of ['bmc', 'host'] as const) {
      this.#sockets[side]?.destroy();
      await new Promise<void>((r) => this.#servers[side].close(() => r()));
    }
  }
}
