/**
 * The UDP edge of the RMCP+ server: binds a socket, hands each datagram to
 * the server core, sends the reply to the sender. Oversized datagrams are
 * dropped before decoding; socket errors are reported, never thrown.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { RmcpServer } from './rmcp-server.js';
import type { RmcpEvents } from './rmcp-events.js';

/** No valid RMCP+ datagram comes near this; IPMI messages are small. */
export const MAX_DATAGRAM_BYTES = 1024;

export interface UdpTransportOptions {
  host: string;
  port: number;
  server: RmcpServer;
  events: Pick<RmcpEvents, 'datagramDropped'>;
  /** Socket-level errors (send failures); the socket stays open. */
  onError: (err: Error) => void;
  /** How often expired sessions are swept (ms). */
  sweepIntervalMs?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * Replies go to the address a datagram came from, always an IP literal.
 * node's default lookup resolves even those through dns.lookup on the next
 * tick; answering literals at once sends the reply in the same turn. Names
 * (only ever the configured listen host) still go to dns.lookup. node's
 * dgram passes the socket's family as a number (4 or 6), although
 * @types/node declares an options object; both are handled.
 */
function literalFirstLookup(address: string, family: number | LookupOneOptions, callback: LookupCallback): void {
  const want = typeof family === 'number' ? family : family.family;
  const got = isIP(address);
  if (got !== 0 && (want === got || want === `IPv${got}`)) {
    callback(null, address, got);
    return;
  }
  if (typeof family === 'number') dnsLookup(address, family, callback);
  else dnsLookup(address, family, callback);
}

export class UdpTransport {
  private socket: Socket | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** The server core datagrams go to; a BMC cold reset replaces it while the socket stays. */
  private server: RmcpServer;
  /** One callback for every send (none made per datagram). */
  private readonly afterSend = (err: Error | null): void => {
    if (err) this.opts.onError(err);
  };

  constructor(private readonly opts: UdpTransportOptions) {
    this.server = opts.server;
  }

  /** Sends later datagrams to `server` (a cold reset rebuilt it). */
  replaceServer(server: RmcpServer): void {
    this.server = server;
  }

  async start(): Promise<{ address: string; port: number }> {
    const socket = createSocket({ type: isIPv6(this.opts.host) ? 'udp6' : 'udp4', reuseAddr: false, lookup: literalFirstLookup });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind(this.opts.port, this.opts.host, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.opts.onError(err));
        resolve();
      });
    });
    const every = this.opts.sweepIntervalMs ?? 1000;
    this.sweepTimer = setInterval(() => this.server.sweep(), every);
    this.sweepTimer.unref();
    const a = socket.address();
    return { address: a.address, port: a.port };
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const peer = `${rinfo.address}:${rinfo.port}`;
    if (msg.length > MAX_DATAGRAM_BYTES) {
      this.opts.events.datagramDropped('malformed', peer, `datagram of ${msg.length} bytes`);
      return;
    }
    // handleDatagramNow never throws and its promise never rejects; the
    // catch is belt and braces so that a bug can never become an unhandled
    // rejection that kills the daemon.
    const reply = this.server.handleDatagramNow(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), peer);
    if (!(reply instanceof Promise)) {
      if (reply !== undefined) this.send(reply, rinfo);
      return;
    }
    this.inFlight++;
    reply
      .then((r) => {
        if (r !== undefined) this.send(r, rinfo);
      })
      .catch((err: unknown) => this.opts.events.datagramDropped('internal', peer, String(err)))
      .finally(() => {
        this.inFlight--;
      });
  }

  /** Sends a datagram the server made on its own (SOL output) to a peer "ADDRESS:PORT". */
  sendTo(datagram: Uint8Array, peer: string): void {
    const at = peer.lastIndexOf(':');
    const port = Number(peer.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port)) return;
    this.socket?.send(datagram, port, peer.slice(0, at), this.afterSend);
  }

  private send(reply: Uint8Array, to: RemoteInfo): void {
    this.socket?.send(reply, to.port, to.address, this.afterSend);
  }

  /** Stops receiving, waits (bounded) for requests being answered, closes the socket. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const socket = this.socket;
    if (socket === undefined) return;
    socket.removeAllListeners('message');
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
