/**
 * Ed25519 keys (node:crypto, see ed25519.ts). Text forms (docs/protocol.md "Keys and key ids"):
 *   public key  "ed25519:" + base64(32 bytes)
 *   secret key  "ed25519-secret:" + base64(32-byte seed)   (files, 0600)
 *   key id      first 8 bytes of SHA-256(public key), 16 lower-case hex digits
 */
import { createHash } from 'node:crypto';
import type { RandomBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { keyPairFromSeed, PUBLIC_KEY_LENGTH, SEED_LENGTH } from './ed25519.js';

export interface SigningKeyPair {
  publicKey: Uint8Array; // 32 bytes
  secretKey: Uint8Array; // 64 bytes: seed || public key (the tweetnacl / RFC 8032 layout)
}

const PUBLIC_PREFIX = 'ed25519:';
const SECRET_PREFIX = 'ed25519-secret:';

export function generateSigningKeyPair(randomBytes: RandomBytes): SigningKeyPair {
  return signingKeyPairFromSeed(randomBytes(SEED_LENGTH));
}

export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  if (seed.length !== SEED_LENGTH) throw new WireError('ERR_KEY_MALFORMED', `Ed25519 seed must be 32 bytes, got ${seed.length}`);
  return keyPairFromSeed(seed);
}

export function keyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

export function encodePublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new WireError('ERR_KEY_MALFORMED', 'Ed25519 public key must be 32 bytes');
  return PUBLIC_PREFIX + Buffer.from(publicKey).toString('base64');
}

export function decodePublicKey(text: string): Uint8Array {
  const bytes = decodePrefixed(text.trim(), PUBLIC_PREFIX, 'public key');
  if (bytes.length !== PUBLIC_KEY_LENGTH) throw new WireError('ERR_KEY_MALFORMED', `public key must decode to 32 bytes, got ${bytes.length}`);
  return bytes;
}

export function encodeSecretKey(pair: SigningKeyPair): string {
  return SECRET_PREFIX + Buffer.from(pair.secretKey.subarray(0, SEED_LENGTH)).toString('base64');
}

export function decodeSecretKey(text: string): SigningKeyPair {
  return signingKeyPairFromSeed(decodePrefixed(text.trim(), SECRET_PREFIX, 'secret key'));
}

function decodePrefixed(text: string, prefix: string, what: string): Uint8Array {
  if (!text.startsWith(prefix)) throw new WireError('ERR_KEY_MALFORMED', `${what} must start with "${prefix}"`);
  const b64 = text.slice(prefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new WireError('ERR_KEY_MALFORMED', `${what} is not base64`);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
