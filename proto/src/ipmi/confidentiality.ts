/**
 * AES-CBC-128 payload confidentiality (IPMI v2.0 §13.29):
 *
 *   0..15   IV (random per packet)
 *   16..    AES-128-CBC(K2[0..15], IV) of
 *             payload | pad 0x01 0x02 .. 0x0N | N
 *           where N (0..15) makes the plaintext a multiple of 16 bytes.
 *
 * The pad is IPMI's own (not PKCS#7), so node's automatic padding is off.
 *
 * `encryptAesCbc128` / `decryptAesCbc128` are one-shot. `AesCbc128` keeps
 * the key schedule of one session, for the per-packet path: creating a
 * node:crypto cipher per packet costs more than the AES itself on IPMI's
 * one- and two-block messages. Both produce exactly the same bytes.
 */
import { type Cipher, createCipheriv, createDecipheriv, type Decipher } from 'node:crypto';
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

/** Length of IV + ciphertext for a plaintext of `plainLength` bytes. */
export function confidentialPayloadLength(plainLength: number): number {
  return AES_BLOCK_BYTES + plainLength + confidentialityPadLength(plainLength) + 1;
}

/** Writes plain | 1 2 .. N | N at out[at..]; returns the padded length. */
function writePadded(plain: Uint8Array, out: Uint8Array, at: number): number {
  const pad = confidentialityPadLength(plain.length);
  out.set(plain, at);
  let i = at + plain.length;
  for (let p = 1; p <= pad; p++) out[i++] = p;
  out[i] = pad;
  return plain.length + pad + 1;
}

/** Checks IPMI's pad on a decrypted payload and returns the plaintext length. */
function unpaddedLength(padded: Uint8Array): number {
  const pad = padded[padded.length - 1] ?? 0;
  if (pad >= AES_BLOCK_BYTES) throw new WireError('ERR_IPMI_PADDING', `confidentiality pad length ${pad} exceeds 15`);
  const plainLength = padded.length - 1 - pad;
  for (let i = 1; i <= pad; i++) {
    if (padded[plainLength + i - 1] !== i) throw new WireError('ERR_IPMI_PADDING', 'confidentiality pad bytes are not 1, 2, 3 ...');
  }
  return plainLength;
}

function checkCiphertext(payload: Uint8Array): void {
  if (payload.length < 2 * AES_BLOCK_BYTES || payload.length % AES_BLOCK_BYTES !== 0) {
    throw new WireError('ERR_IPMI_PADDING', `encrypted payload of ${payload.length} bytes is not IV + whole blocks`, 0);
  }
}

export function encryptAesCbc128(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Uint8Array {
  if (key.length !== AES_KEY_BYTES || iv.length !== AES_BLOCK_BYTES) throw new WireError('ERR_BAD_FIELD', 'AES-CBC-128 needs a 16-byte key and IV');
  const padded = new Uint8Array(plain.length + confidentialityPadLength(plain.length) + 1);
  writePadded(plain, padded, 0);
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
  checkCiphertext(payload);
  const decipher = createDecipheriv('aes-128-cbc', key, payload.subarray(0, AES_BLOCK_BYTES)).setAutoPadding(false);
  const padded = new Uint8Array(Buffer.concat([decipher.update(payload.subarray(AES_BLOCK_BYTES)), decipher.final()]));
  return padded.slice(0, unpaddedLength(padded));
}

/**
 * AES-CBC-128 under one key, many packets, each with its own IV.
 *
 * Encryption keeps one CBC context open. After each packet its chaining
 * value is the last ciphertext block `last`; feeding the first plaintext
 * block XORed with IV ⊕ `last` makes the context compute
 * E(P1 ⊕ IV), exactly what a fresh context with that IV computes, and the
 * following blocks chain as usual. Decryption uses an ECB context
 * (P_i = D(C_i) ⊕ C_(i-1), C_0 = IV) so it keeps no state between packets.
 */
export class AesCbc128 {
  private readonly key: Uint8Array;
  private encryptor: Cipher;
  private readonly last = new Uint8Array(AES_BLOCK_BYTES);
  private readonly decryptor: Decipher;

  constructor(key: Uint8Array) {
    if (key.length !== AES_KEY_BYTES) throw new WireError('ERR_BAD_FIELD', 'AES-CBC-128 needs a 16-byte key');
    this.key = key.slice();
    this.encryptor = this.freshEncryptor();
    this.decryptor = createDecipheriv('aes-128-ecb', this.key, null).setAutoPadding(false);
  }

  /**
   * Writes IV | AES-CBC(plain | pad) at out[at..]; out must have room for
   * confidentialPayloadLength(plain.length) bytes there. Returns that length.
   */
  encryptInto(iv: Uint8Array, plain: Uint8Array, out: Uint8Array, at: number): number {
    if (iv.length !== AES_BLOCK_BYTES) throw new WireError('ERR_BAD_FIELD', 'AES-CBC-128 needs a 16-byte key and IV');
    out.set(iv, at);
    const start = at + AES_BLOCK_BYTES;
    const n = writePadded(plain, out, start);
    const last = this.last;
    for (let i = 0; i < AES_BLOCK_BYTES; i++) out[start + i] = (out[start + i] ?? 0) ^ (iv[i] ?? 0) ^ (last[i] ?? 0);
    let ct: Buffer;
    try {
      ct = this.encryptor.update(out.subarray(start, start + n));
    } catch (err) {
      // The chaining value is unknown now: start over from a known one.
      this.encryptor = this.freshEncryptor();
      throw err;
    }
    if (ct.length !== n) {
      this.encryptor = this.freshEncryptor();
      throw new WireError('ERR_BAD_FIELD', 'AES-CBC-128 returned a partial block');
    }
    out.set(ct, start);
    last.set(ct.subarray(n - AES_BLOCK_BYTES));
    return AES_BLOCK_BYTES + n;
  }

  /** IV | ciphertext → plaintext, checking IPMI's pad (ERR_IPMI_PADDING). */
  decrypt(payload: Uint8Array): Uint8Array {
    checkCiphertext(payload);
    const blocks = this.decryptor.update(payload.subarray(AES_BLOCK_BYTES));
    if (blocks.length !== payload.length - AES_BLOCK_BYTES) throw new WireError('ERR_IPMI_PADDING', 'AES-CBC-128 returned a partial block');
    const padded = new Uint8Array(blocks.length);
    for (let i = 0; i < blocks.length; i++) padded[i] = (blocks[i] ?? 0) ^ (payload[i] ?? 0);
    return padded.subarray(0, unpaddedLength(padded));
  }

  /** Zeroes this object's copy of the key (node's contexts keep theirs until collected). */
  dispose(): void {
    this.key.fill(0);
    this.last.fill(0);
  }

  private freshEncryptor(): Cipher {
    this.last.fill(0);
    return createCipheriv('aes-128-cbc', this.key, new Uint8Array(AES_BLOCK_BYTES)).setAutoPadding(false);
  }
}
