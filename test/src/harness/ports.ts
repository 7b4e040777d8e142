/**
 * Free ports on 127.0.0.1 for the daemons a test starts.
 *
 * Ports are picked below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range), never from it: a test often
 * holds a port closed for a while (a receiver that is "down", a daemon
 * being restarted), and a port in the ephemeral range can meanwhile become
 * the source port of some outgoing connection, or even of a connection to
 * itself (a TCP connect to a closed local port the kernel happens to pick
 * as source port succeeds by simultaneous open). Each pick is checked by
 * binding it, and a random start spreads parallel test files apart.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > LOWEST + 1000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

function randomCandidate(): number {
  return LOWEST + Math.floor(Math.random() * (ephemeralStart() - LOWEST));
}

function tcpBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

async function pick(bindable: (port: number) => Promise<boolean>, what: string): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomCandidate();
    if (await bindable(port)) return port;
  }
  throw new Error(`no free ${what} port on 127.0.0.1 below the ephemeral range after 200 tries`);
}

export function freeTcpPort(): Promise<number> {
  return pick(tcpBindable, 'TCP');
}

export function freeUdpPort(): Promise<number> {
  return pick(udpBindable, 'UDP');
}
