/**
 * The enrollment bundle a hypervisor-agent takes (`hypervisor-agent enroll
 * BUNDLE`): JSON, written 0600 because it holds the host's seed.
 *
 *   { "version": 1, "hostId": "hv-01", "seed": base64(32 bytes),
 *     "managerPublicKeys": ["ed25519:..."] }
 */
import { encodePublicKey } from '@backchannel/proto';

export interface EnrollmentBundle {
  version: 1;
  hostId: string;
  seed: string;
  managerPublicKeys: string[];
}

export function enrollmentBundle(hostId: string, seed: Uint8Array, managerKeys: Uint8Array[]): EnrollmentBundle {
  return { version: 1, hostId, seed: Buffer.from(seed).toString('base64'), managerPublicKeys: managerKeys.map(encodePublicKey) };
}
