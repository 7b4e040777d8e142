/**
 * A TCP proxy that can be frozen: while frozen it forwards nothing in
 * either direction and keeps every connection open, as a replica that is
 * SIGSTOPped, or a network path that silently drops everything, looks to
 * the other end (the kernels still ACK; nothing gets through). Thawing
 * forwards what was held back. Used between one vms-agent replica and
 * PostgreSQL to prove a cut-off replica does not block the others.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';

export class FreezableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #frozen = false;
  connections = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FreezableProxy> {
    const server = createServer();
    const proxy = new FreezableProxy(server);
    server.on('connection', (client) => proxy.#pair(client, targetPort, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const a = this.#server.address();
    if (!a || typeof a === 'string') throw new Error('proxy not listening');
    return a.port;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Stops forwarding on every connection, present and future (sockets stay open; reads pause). */
  freeze(): void {
    this.#frozen = true;
    for (const s of this.#sockets) s.pause();
  }

  thaw(): void {
    this.#frozen = false;
    for (const s of this.#sockets) s.resume();
  }

  #pair(client: Socket, port: number, host: string): void {
    this.connections++;
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => undefined);
      if (this.#frozen) s.pause();
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
