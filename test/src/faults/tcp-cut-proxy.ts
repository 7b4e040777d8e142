/**
 * A TCP proxy for the VM-protocol link between a hypervisor-agent and
 * bmc-oem that cuts connections at random points: after each chunk in
 * either direction it destroys both sides with probability `cutProbability`
 * (seeded). It can also split chunks at random offsets, so frames arrive in
 * pieces. The client reconnects to the proxy; the proxy opens a new
 * upstream connection each time.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import { seededRandom } from './seeded-random.js';

export interface TcpCutStats {
  connections: number;
  cuts: number;
  bytesToTarget: number;
  bytesToClient: number;
}

export class TcpCutProxy {
  readonly stats: TcpCutStats = { connections: 0, cuts: 0, bytesToTarget: 0, bytesToClient: 0 };
  cutProbability: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #random: () => number;

  private constructor(server: Server, cutProbability: number, seed: number) {
    this.#server = server;
    this.cutProbability = cutProbability;
    this.#random = seededRandom(seed);
  }

  static async start(options: { targetPort: number; cutProbability?: number; seed?: number }): Promise<TcpCutProxy> {
    const server = createServer();
    const proxy = new TcpCutProxy(server, options.cutProbability ?? 0, options.seed ?? 1);
    server.on('connection', (client) => proxy.#pair(client, options.targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (!address || typeof address === 'string') throw new Error('proxy not listening');
    return address.port;
  }

  #pair(client: Socket, targetPort: number): void {
    this.stats.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => undefined);
    }
    const cut = () => {
      this.stats.cuts++;
      client.destroy();
      upstream.destroy();
    };
    const pipe = (from: Socket, to: Socket, counter: 'bytesToTarget' | 'bytesToClient') => {
      from.on('data', (chunk: Buffer) => {
        // Sometimes forward only part of the chunk, then cut: a frame torn mid-way.
        if (this.#random() < this.cutProbability) {
          const part = chunk.subarray(0, Math.floor(this.#random() * chunk.length));
          if (part.length) to.write(part);
          this.stats[counter] += part.length;
          cut();
          return;
        }
        to.write(chunk);
        this.stats[counter] += chunk.length;
      });
      from.on('close', () => to.destroy());
    };
    pipe(client, upstream, 'bytesToTarget');
    pipe(upstream, client, 'bytesToClient');
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
