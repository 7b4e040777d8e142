// RFC 6238 Appendix B test vectors, computed through otplib (the library the
// envelope key schedule uses) and through totpForStep itself.
import { generateSync } from 'otplib';
import { describe, expect, it } from 'vitest';
import { totpForStep } from '../src/index.js';

const SHA1_SEED = new TextEncoder().encode('12345678901234567890');
const SHA256_SEED = new TextEncoder().encode('12345678901234567890123456789012');
const SHA512_SEED = new TextEncoder().encode('1234567890'.repeat(6) + '1234');

const VECTORS: Array<[time: number, sha1: string, sha256: string, sha512: string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('RFC 6238 TOTP through otplib', () => {
  for (const [time, sha1, sha256, sha512] of VECTORS) {
    it(`T=${time}`, () => {
      expect(generateSync({ secret: SHA1_SEED, epoch: time, digits: 8, algorithm: 'sha1' })).toBe(sha1);
      expect(generateSync({ secret: SHA256_SEED, epoch: time, digits: 8, algorithm: 'sha256' })).toBe(sha256);
      expect(generateSync({ secret: SHA512_SEED, epoch: time, digits: 8, algorithm: 'sha512' })).toBe(sha512);
    });
  }
});

describe('totpForStep (HMAC-SHA-256, 8 digits, 30 s steps)', () => {
  for (const [time, , sha256] of VECTORS) {
    it(`step of T=${time} gives the RFC SHA-256 value`, () => {
      expect(totpForStep(SHA256_SEED, Math.floor(time / 30), 30)).toBe(sha256);
    });
  }
});
