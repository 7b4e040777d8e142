/**
 * Secret files: the host seed (base64 of 32 bytes) and the host signing key
 * ("ed25519-secret:..."). Written 0600 (atomically, via a temp file), and read
 * with a warning when group/other can read them.
 */
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { decodeSecretKey, SEED_BYTES, type SigningKeyPair } from '@backchannel/proto';

export class SecretFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFileError';
  }
}

export function writeSecretFile(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** True when the file is readable by group or others (the caller logs a warning). */
export function isTooOpen(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new SecretFileError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (run "hypervisor-agent ${what === 'seed file' ? 'enroll BUNDLE' : 'keygen'}" first)`);
  }
}

export function readSeedFile(path: string): Uint8Array {
  const text = readText(path, 'seed file');
  const seed = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? new Uint8Array(Buffer.from(text, 'base64')) : new Uint8Array();
  if (seed.length !== SEED_BYTES) throw new SecretFileError(`seed file ${path} must hold base64 of ${SEED_BYTES} bytes`);
  return seed;
}

export function readHostKeyFile(path: string): SigningKeyPair {
  const text = readText(path, 'host key file');
  try {
    return decodeSecretKey(text);
  } catch (err) {
    throw new SecretFileError(`host key file ${path}: ${(err as Error).message}`);
  }
}
