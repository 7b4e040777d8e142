/**
 * AES-CBC-128 payload confidentiality (IPMI v2.0 §13.29):
 *
 *   0..15   IV (random per packet)
 *   16..    AES-128-CBC(K2[0..15], IV) of
 *             payload | pad 0x01 0x02 .. 0x0N | N
 *           where N (0..15) makes the plaintext a multiple of 16 bytes.
 *
 * The pad is IPMI's own (not PKCS#7), so node's automatic padding is off.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { concatBytes, type RandomBytes } from '../bytes.js';
import { WireError } from '../errors.js';

export const AES_BLOCK_BYTES = 16;
export const AES_KEY_BYTES = 16;

/** The AES key is the first 16 bytes of K2. */
export function aesKeyFromK2(k2: Uint8Array): Uint8Array {
  if (k2.length < AES_KEY_BYTES) throw new WireError('ERR_BAD_FIELD', 'K2 shorter than 16 bytes');
  return k2.slice(0, AES_KEY_BYTES);
}

export function confidentialityPadLength(plainLength: number): number {
  return (AES_BLOCK_BYTES - ((plainLength + 1) % AES_BLOCK_BYTES)) % AES_BLOCK_BYTES;
}

export function encryptAesCbc128(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Uint8Array {
  if (key.length !== AES_KEY_BYTES || iv.length !== AES_BLOCK_BYTES) throw new WireError('ERR_BAD_FIELD', 'AES-CBC-128 needs a 16-byte key and IV');
  const pad = confidentialityPadLength(plain.length);
  const padded = new Uint8Array(plain.length + pad + 1);
  padded.set(plain);
  for (let i = 1; i <= pad; i++) padded[plain.length + i - 1] = i;
  padded[padded.length - 1] = pad;
  const cipher = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return concatBytes([iv, cipher.update(padded), cipher.final()]);
}

/** Encrypts with a fresh IV from `randomBytes`. */
export function sealConfidential(key: Uint8Array, plain: Uint8Array, randomBytes: RandomBytes): Uint8Array {
  const iv = randomBytes(AES_BLOCK_BYTES);
  if (iv.length !== AES_BLOCK_BYTES) throw new WireError('ERR_BAD_FIELD', 'randomBytes returned the wrong length');
  return encryptAesCbc128(key, iv, plain);
}

export function decryptAesCbc128(key: Uint8Array, payload: Uint8Array): Uint8Array {
  if (key.length !== AES_KEY_BYTES) throw new WireError('ERR_BAD_FIELD', 'AES-CBC-128 needs a 16-byte key');
  if (payload.length < 2 * AES_BLOCK_BYTES || payload.length % AES_BLOCK_BYTES !== 0) {
    throw new WireError('ERR_IPMI_PADDING', `encrypted payload of ${payload.length} bytes is not IV + whole blocks`, 0);
  }
  const decipher = createDecipheriv('aes-128-cbc', key, payload.subarray(0, AES_BLOCK_BYTES)).setAutoPadding(false);
  const padded = new Uint8Array(Buffer.concat([decipher.update(payload.subarray(AES_BLOCK_BYTES)), decipher.final()]));
  const pad = padded[padded.length - 1] ?? 0;
  if (pad >= AES_BLOCK_BYTES) throw new WireError('ERR_IPMI_PADDING', `confidentiality pad length ${pad} exceeds 15`);
  const plainLength = padded.length - 1 - pad;
  for (let i = 1; i <= pad; i++) {
    if (padded[plainLength + i - 1] !== i) throw new WireError('ERR_IPMI_PADDING', 'confidentiality pad bytes are not 1, 2, 3 ...');
  }
  return padded.slice(0, plainLength);
}
