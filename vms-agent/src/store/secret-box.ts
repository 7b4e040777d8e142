/**
 * Secrets at rest (BMC passwords, host seeds, custodial signing keys):
 * AES-256-GCM under a 32-byte master key that lives outside the database
 * (a file named by config or BACKCHANNEL_MASTER_KEY_FILE), so a copied
 * database file alone reveals nothing.
 *
 * Sealed form: 0x01 | iv[12] | ciphertext | tag[16]. The additional data is
 * a label naming what the secret is and whose (e.g. "host-seed\0hv-01"), so
 * a ciphertext moved to another row or column fails to open.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RandomBytes } from '@backchannel/proto';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const MASTER_KEY_BYTES = 32;

export class SecretBoxError extends Error {
  readonly code: 'ERR_MASTER_KEY' | 'ERR_SECRET_CORRUPT';
  constructor(code: 'ERR_MASTER_KEY' | 'ERR_SECRET_CORRUPT', message: string) {
    super(message);
    this.name = 'SecretBoxError';
    this.code = code;
  }
}

export class SecretBox {
  readonly #key: Uint8Array;
  readonly #randomBytes: RandomBytes;

  constructor(masterKey: Uint8Array, randomBytes: RandomBytes) {
    if (masterKey.length !== MASTER_KEY_BYTES) {
      throw new SecretBoxError('ERR_MASTER_KEY', `master key must be ${MASTER_KEY_BYTES} bytes, got ${masterKey.length}`);
    }
    this.#key = Uint8Array.from(masterKey);
    this.#randomBytes = randomBytes;
  }

  seal(plaintext: Uint8Array, label: string): Uint8Array {
    const iv = this.#randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(label, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const out = new Uint8Array(1 + IV_BYTES + body.length + TAG_BYTES);
    out[0] = VERSION;
    out.set(iv, 1);
    out.set(body, 1 + IV_BYTES);
    out.set(cipher.getAuthTag(), 1 + IV_BYTES + body.length);
    return out;
  }

  open(sealed: Uint8Array, label: string): Uint8Array {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
      throw new SecretBoxError('ERR_SECRET_CORRUPT', `stored secret "${label}" is malformed`);
    }
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(label, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]));
    } catch {
      throw new SecretBoxError(
        'ERR_SECRET_CORRUPT',
        `stored secret "${label}" does not open with this master key (wrong BACKCHANNEL_MASTER_KEY_FILE?)`,
      );
    }
  }
}

/** Text form of a master key file: 64 hex digits or base64 of 32 bytes, surrounding whitespace ignored. */
export function parseMasterKey(text: string): Uint8Array {
  const clean = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(clean)) bytes = new Uint8Array(Buffer.from(clean, 'hex'));
  else if (/^[A-Za-z0-9+/]{43}=$/.test(clean)) bytes = new Uint8Array(Buffer.from(clean, 'base64'));
  if (!bytes || bytes.length !== MASTER_KEY_BYTES) {
    throw new SecretBoxError('ERR_MASTER_KEY', 'master key file must hold 32 bytes as 64 hex digits or base64 (vms-agent keygen --master-key writes one)');
  }
  return bytes;
}

export function readMasterKeyFile(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SecretBoxError('ERR_MASTER_KEY', `cannot read master key file ${path}: ${(err as Error).message}`);
  }
  return parseMasterKey(text);
}

export function formatMasterKey(key: Uint8Array): string {
  return `${Buffer.from(key).toString('base64')}\n`;
}
