/**
 * The UDP edge of the RMCP+ server: binds a socket, hands each datagram to
 * the server core, sends the reply to the sender. Oversized datagrams are
 * dropped before decoding; socket errors are reported, never thrown.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
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

export class UdpTransport {
  private socket: Socket | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;

  constructor(private readonly opts: UdpTransportOptions) {}

  async start(): Promise<{ address: string; port: number }> {
    const socket = createSocket({ type: isIPv6(this.opts.host) ? 'udp6' : 'udp4', reuseAddr: false });
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
    this.sweepTimer = setInterval(() => this.opts.server.sweep(), every);
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
    this.inFlight++;
    // handleDatagram never rejects; the catch is belt and braces so that a
    // bug can never become an unhandled rejection that kills the daemon.
    this.opts.server
      .handleDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), peer)
      .then((reply) => {
        if (reply !== undefined && this.socket !== undefined) {
          this.socket.send(reply, rinfo.port, rinfo.address, (err) => {
            if (err) this.opts.onError(err);
          });
        }
      })
      .catch((err: unknown) => this.opts.events.datagramDropped('internal', peer, String(err)))
      .finally(() => {
        this.inFlight--;
      });
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
