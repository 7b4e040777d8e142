/**
 * The thin IO edge: one connected UDP socket to one BMC. Connected, so the
 * kernel drops datagrams from anyone else; everything above sees bytes only.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

export interface DatagramTransport {
  send(datagram: Uint8Array): void;
  /** Replaces the receive handler. */
  onDatagram(handler: (datagram: Uint8Array) => void): void;
  close(): Promise<void>;
}

export async function connectUdp(host: string, port: number): Promise<DatagramTransport> {
  const socket: Socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  let handler: (datagram: Uint8Array) => void = () => undefined;
  let closed = false;
  socket.on('message', (msg) => handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)));
  // ICMP port unreachable and friends surface as socket errors; the session's timeouts handle them.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    send(datagram) {
      if (!closed) socket.send(datagram);
    },
    onDatagram(h) {
      handler = h;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
