/** `hypervisor-agent keygen`: makes the host's Ed25519 alert-signing key (file 0600) and prints its public key. */
import { existsSync } from 'node:fs';
import { encodePublicKey, encodeSecretKey, generateSigningKeyPair, keyId, type RandomBytes } from '@backchannel/proto';
import { writeSecretFile } from '../config/secrets.js';
import { FileExistsError } from './exit-codes.js';

export function keygen(path: string, randomBytes: RandomBytes, options: { force?: boolean } = {}): { publicKey: string; keyId: string } {
  if (existsSync(path) && !options.force) throw new FileExistsError(`refusing to overwrite ${path} (use --force to replace the host key)`);
  const pair = generateSigningKeyPair(randomBytes);
  writeSecretFile(path, `${encodeSecretKey(pair)}\n`);
  return { publicKey: encodePublicKey(pair.publicKey), keyId: keyId(pair.publicKey) };
}
