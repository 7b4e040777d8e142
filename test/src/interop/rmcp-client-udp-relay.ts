/**
 * A UDP relay between the client and a BMC that can drop chosen datagrams:
 * the fault the retransmission tests and the bench need. Every datagram is
 * also counted per direction so a test can say exactly what crossed.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';

export interface UdpRelay {
  port: number;
  /** Datagrams seen (before dropping) per direction. */
  readonly seen: { toBmc: number; toClient: number };
  readonly dropped: { toBmc: number; toClient: number };
  /** Decides, per datagram from the BMC, whether to drop it. */
  dropToClient: (datagram: Buffer, index: number) => boolean;
  dropToBmc: (datagram: Buffer, index: number) => boolean;
  close(): Promise<void>;
}

export async function startUdpRelay(bmcHost: string, bmcPort: number): Promise<UdpRelay> {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  let client: RemoteInfo | undefined;
  const relay: UdpRelay = {
    port: 0,
    seen: { toBmc: 0, toClient: 0 },
    dropped: { toBmc: 0, toClient: 0 },
    dropToClient: () => false,
    dropToBmc: () => false,
    close: async () => {
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => back.close(() => r()))]);
    },
  };
  front.on('message', (msg, rinfo) => {
    client = rinfo;
    const i = relay.seen.toBmc++;
    if (relay.dropToBmc(msg, i)) {
      relay.dropped.toBmc++;
      return;
    }
    back.send(msg, bmcPort, bmcHost);
  });
  back.on('message', (msg) => {
    const i = relay.seen.toClient++;
    if (!client) return;
    if (relay.dropToClient(msg, i)) {
      relay.dropped.toClient++;
      return;
    }
    front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
  relay.port = front.address().port;
  return relay;
}
