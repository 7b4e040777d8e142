/**
 * What `lan print` shows about the network, read from the machine rather
 * than configured: the IPv4 address bmc-oem listens on (for 0.0.0.0, the
 * first non-internal IPv4 address), its netmask and MAC address, and the
 * default gateway with its MAC from /proc/net/route and /proc/net/arp.
 * Anything that cannot be found reads as zeros.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface NetworkFacts {
  ipv4: string;
  netmask: string;
  mac: string;
  gateway: string;
  gatewayMac: string;
}

const ZERO_IP = '0.0.0.0';
const ZERO_MAC = '00:00:00:00:00:00';

function hexToIpv4(hex: string): string {
  // /proc/net/route prints addresses as little-endian hex words.
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

function defaultGateway(iface: string): string {
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [name, dest, gw] = line.trim().split(/\s+/);
      if (name === iface && dest === '00000000' && gw !== undefined) return hexToIpv4(gw);
    }
  } catch {
    // not Linux, or no /proc
  }
  return ZERO_IP;
}

function arpMac(ip: string): string {
  try {
    for (const line of readFileSync('/proc/net/arp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === ip && cols[3] !== undefined && /^[0-9a-f:]{17}$/i.test(cols[3])) return cols[3];
    }
  } catch {
    // no ARP table to read
  }
  return ZERO_MAC;
}

export function readNetworkFacts(listenHost: string): NetworkFacts {
  const all = networkInterfaces();
  for (const [name, addrs] of Object.entries(all)) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      const match = listenHost === ZERO_IP ? !a.internal : a.address === listenHost;
      if (!match) continue;
      const gateway = a.internal ? ZERO_IP : defaultGateway(name);
      return { ipv4: a.address, netmask: a.netmask, mac: a.mac, gateway, gatewayMac: gateway === ZERO_IP ? ZERO_MAC : arpMac(gateway) };
    }
  }
  return { ipv4: isIPv4(listenHost) ? listenHost : ZERO_IP, netmask: ZERO_IP, mac: ZERO_MAC, gateway: ZERO_IP, gatewayMac: ZERO_MAC };
}

export function ipv4Bytes(ip: string): number[] {
  return isIPv4(ip) ? ip.split('.').map(Number) : [0, 0, 0, 0];
}

export function macBytes(mac: string): number[] {
  const parts = mac.split(':').map((p) => Number.parseInt(p, 16));
  return parts.length === 6 && parts.every((p) => Number.isInteger(p)) ? parts : [0, 0, 0, 0, 0, 0];
}
