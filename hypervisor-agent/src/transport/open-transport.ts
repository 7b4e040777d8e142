/** Opens the BmcTransport a link URI names. */
import type { BmcTransport } from './bmc-transport.js';
import { IpmiDeviceTransport } from './ipmi-dev-transport.js';
import { parseLinkUri } from './link-uri.js';
import { openVmSerialTransport } from './vm-serial-transport.js';
import { isSerialLink, parseSerialLink } from './serial-target.js';
import { openSerialTransport } from './serial-transport.js';

export async function openTransport(uri: string, options: { timeoutMs?: number } = {}): Promise<BmcTransport> {
  // SOL through a stock BMC: the channel over the host serial port (serial:/dev/ttyS1@115200).
  if (isSerialLink(uri)) return openSerialTransport(parseSerialLink(uri), options);
  const link = parseLinkUri(uri);
  if (link.kind === 'ipmi-dev') return IpmiDeviceTransport.open({ path: link.path, ...options });
  return openVmSerialTransport(link.target, options);
}
