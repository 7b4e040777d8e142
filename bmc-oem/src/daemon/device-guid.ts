/**
 * Where the device/system GUID comes from: the config, else a file in the
 * state directory (created once, so the GUID survives restarts and consoles
 * that pin it keep working), else a fresh random one per start.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RandomBytes } from '@backchannel/proto';
import { guidFromUuid, uuidFromGuid } from '../commands/device-identity.js';

export const GUID_FILE = 'device-guid';

/** A random RFC 4122 version-4 GUID in IPMI wire order. */
export function randomGuid(randomBytes: RandomBytes): Uint8Array {
  const b = Uint8Array.from(randomBytes(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return guidFromUuid(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
}

export function resolveDeviceGuid(configured: Uint8Array | undefined, stateDir: string | undefined, randomBytes: RandomBytes): { guid: Uint8Array; source: 'config' | 'state-dir' | 'random' } {
  if (configured !== undefined) return { guid: configured, source: 'config' };
  if (stateDir === undefined) return { guid: randomGuid(randomBytes), source: 'random' };
  const path = join(stateDir, GUID_FILE);
  try {
    return { guid: guidFromUuid(readFileSync(path, 'utf8').trim()), source: 'state-dir' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const guid = randomGuid(randomBytes);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${uuidFromGuid(guid)}\n`, { mode: 0o600, flag: 'wx' });
  return { guid, source: 'state-dir' };
}
