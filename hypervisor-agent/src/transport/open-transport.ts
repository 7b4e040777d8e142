/** Opens the BmcTransport a link URI names. */
import type { BmcTransport, OpenVmSerialTransport } from './bmc-transport.js';
import { IpmiDeviceTransport } from './ipmi-dev-transport.js';
import { parseLinkUri } from './link-uri.js';

export async function openTransport(uri: string, options: { timeoutMs?: number } = {}): Promise<BmcTransport> {
  const link = parseLinkUri(uri);
  if (link.kind === 'ipmi-dev') return IpmiDeviceTransport.open({ path: link.path, ...options });
  // Loaded lazily: hosts on /dev/ipmi0 never need the serial client (or its tty code).
  const specifier = './vm-serial-transport.js';
  const mod = (await import(specifier)) as { openVmSerialTransport: OpenVmSerialTransport };
  return mod.openVmSerialTransport(link.target, options);
}
