/**
 * The BMC link URI in the agent config, parsed into what to open:
 *   vm+tcp://HOST:PORT            VM serial protocol over TCP
 *   vm+unix:///PATH               ... over a unix socket
 *   vm+serial:///DEV?baud=N       ... over a serial line (default 115200)
 *   ipmi:///dev/ipmi0             Linux OpenIPMI driver
 */
import type { VmSerialTarget } from './bmc-transport.js';

export type LinkTarget = { kind: 'vm'; target: VmSerialTarget } | { kind: 'ipmi-dev'; path: string };

export class LinkUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkUriError';
  }
}

const BAUD_RATES = new Set([9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]);

export function parseLinkUri(text: string): LinkTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LinkUriError(`not a URI: "${text}" (expected vm+tcp://HOST:PORT, vm+unix:///PATH, vm+serial:///DEV?baud=N or ipmi:///dev/ipmi0)`);
  }
  switch (url.protocol) {
    case 'vm+tcp:': {
      const port = Number(url.port);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new LinkUriError(`vm+tcp URI needs HOST:PORT, got "${text}"`);
      return { kind: 'vm', target: { kind: 'tcp', host, port } };
    }
    case 'vm+unix:': {
      const path = decodeURIComponent(url.pathname);
      if (url.hostname || !path.startsWith('/')) throw new LinkUriError(`vm+unix URI needs an absolute path (vm+unix:///run/bmc.sock), got "${text}"`);
      return { kind: 'vm', target: { kind: 'unix', path } };
    }
    case 'vm+serial:': {
      const path = decodeURIComponent(url.pathname);
      if (url.hostname || !path.startsWith('/')) throw new LinkUriError(`vm+serial URI needs a device path (vm+serial:///dev/ttyS1), got "${text}"`);
      const baudText = url.searchParams.get('baud');
      const baud = baudText === null ? 115200 : Number(baudText);
      if (!BAUD_RATES.has(baud)) throw new LinkUriError(`vm+serial baud must be one of ${[...BAUD_RATES].join(', ')}, got "${baudText}"`);
      return { kind: 'vm', target: { kind: 'serial', path, baud } };
    }
    case 'ipmi:': {
      const path = decodeURIComponent(url.pathname);
      if (url.hostname || !path.startsWith('/dev/')) throw new LinkUriError(`ipmi URI needs a device path (ipmi:///dev/ipmi0), got "${text}"`);
      return { kind: 'ipmi-dev', path };
    }
    default:
      throw new LinkUriError(`unsupported link scheme "${url.protocol}" in "${text}" (use vm+tcp, vm+unix, vm+serial or ipmi)`);
  }
}
