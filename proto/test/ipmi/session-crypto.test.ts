// Known-answer and property tests for the RMCP+ crypto. Expected values are
// computed here independently with node:crypto from the spec's formulas.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendIntegrityTrailer,
  confidentialityPadLength,
  decryptAesCbc128,
  deriveSessionKeys,
  encryptAesCbc128,
  fromHex,
  integrityPadLength,
  NO_SESSION_CRYPTO,
  openIpmi2Packet,
  passwordKey,
  PayloadType,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  type RakpContext,
  sealIpmi2Packet,
  type SessionCrypto,
  STANDARD_CIPHER_SUITES,
  toHex,
  utf8,
  WireError,
} from '../../src/index.js';
import { RAW_GET_DEVICE_ID_EXCHANGE } from './captured-exchanges.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
  return undefined;
}

describe('RAKP-HMAC-SHA256 (cipher suite 17) known answers', () => {
  const ctx: RakpContext = {
    authAlgorithm: 3,
    remoteConsoleSessionId: 0x11223344,
    managedSystemSessionId: 0xa1b2c3d4,
    remoteConsoleRandom: fromHex('000102030405060708090a0b0c0d0e0f'),
    managedSystemRandom: fromHex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'),
    managedSystemGuid: fromHex('00112233445566778899aabbccddeeff'),
    role: 0x13,
    userName: utf8('oper'),
  };
  const password = 'secret';
  const hs = (key: string | Uint8Array, hex: string): Uint8Array => new Uint8Array(createHmac('sha256', key).update(Buffer.from(hex.replace(/ /g, ''), 'hex')).digest());

  it('RAKP2 auth code = HMAC(SIDm | SIDc | Rm | Rc | GUIDc | ROLE | ULEN | UNAME)', () => {
    const want = hs(password, '44332211 d4c3b2a1 000102030405060708090a0b0c0d0e0f f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff 00112233445566778899aabbccddeeff 13 04 6f706572');
    expect(toHex(rakp2AuthCode(ctx, passwordKey(utf8(password))))).toBe(toHex(want));
    expect(want.length).toBe(32);
  });

  it('RAKP3 auth code = HMAC(Rc | SIDm | ROLE | ULEN | UNAME)', () => {
    const want = hs(password, 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff 44332211 13 04 6f706572');
    expect(toHex(rakp3AuthCode(ctx, passwordKey(utf8(password))))).toBe(toHex(want));
  });

  it('SIK, K1, K2 and the 16-byte RAKP4 ICV', () => {
    const sik = hs(password, '000102030405060708090a0b0c0d0e0f f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff 13 04 6f706572');
    const keys = deriveSessionKeys(ctx, passwordKey(utf8(password)));
    expect(toHex(keys.sik)).toBe(toHex(sik));
    expect(toHex(keys.k1)).toBe(toHex(hs(sik, '01'.repeat(20)))); // Const1 is 20 bytes for SHA256 too (§13.32, ipmitool)
    expect(toHex(keys.k2)).toBe(toHex(hs(sik, '02'.repeat(20))));
    const icv = hs(sik, '000102030405060708090a0b0c0d0e0f d4c3b2a1 00112233445566778899aabbccddeeff').subarray(0, 16);
    expect(toHex(rakp4Icv(ctx, keys.sik))).toBe(toHex(icv));
  });

  it('refuses passwords over 20 bytes and unimplemented algorithms', () => {
    expect(codeOf(() => passwordKey(new Uint8Array(21)))).toBe('ERR_BAD_FIELD');
    expect(codeOf(() => rakp2AuthCode({ ...ctx, authAlgorithm: 2 }, passwordKey(utf8(password))))).toBe('ERR_IPMI_UNSUPPORTED');
  });
});

describe('integrity trailer', () => {
  it('pads auth type .. next header to a multiple of 4', () => {
    expect([12, 13, 14, 15, 16, 44].map(integrityPadLength)).toEqual([2, 1, 0, 3, 2, 2]);
  });

  it('HMAC-SHA256-128 AuthCode covers auth type .. next header', () => {
    const k1 = fromHex('aa'.repeat(32));
    const unsigned = fromHex('06 40 01000000 02000000 0100 55'); // 13 bytes → pad 1
    const out = appendIntegrityTrailer(unsigned, { hash: 'sha256', authCodeLength: 16 }, k1);
    const signed = fromHex('06 40 01000000 02000000 0100 55 ff 01 07');
    const code = createHmac('sha256', k1).update(signed).digest().subarray(0, 16);
    expect(toHex(out)).toBe(toHex(signed) + code.toString('hex'));
  });
});

describe('AES-CBC-128 confidentiality', () => {
  const key = fromHex('000102030405060708090a0b0c0d0e0f');
  const iv = fromHex('101112131415161718191a1b1c1d1e1f');

  it('pads with 1, 2, 3 ... N then N, to whole blocks', () => {
    expect([0, 1, 14, 15, 16, 31].map(confidentialityPadLength)).toEqual([15, 14, 1, 0, 15, 0]);
    const plain = fromHex('20 18 c8 81 04 01 63'); // 7 bytes → 8 pad bytes + pad length
    const independent = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    const block = Buffer.concat([Buffer.from(plain), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 8])]);
    const want = Buffer.concat([Buffer.from(iv), independent.update(block), independent.final()]);
    const got = encryptAesCbc128(key, iv, plain);
    expect(toHex(got)).toBe(want.toString('hex'));
    expect(toHex(decryptAesCbc128(key, got))).toBe(toHex(plain));
  });

  it('rejects bad pad bytes, a pad length over 15 and partial blocks', () => {
    const enc = (block: number[]): Uint8Array => {
      const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      return new Uint8Array(Buffer.concat([Buffer.from(iv), c.update(Buffer.from(block)), c.final()]));
    };
    expect(codeOf(() => decryptAesCbc128(key, enc([0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 1, 2, 3, 4, 5, 6, 7, 9, 8])))).toBe('ERR_IPMI_PADDING');
    expect(codeOf(() => decryptAesCbc128(key, enc(Array.from({ length: 16 }, () => 0x10))))).toBe('ERR_IPMI_PADDING');
    expect(codeOf(() => decryptAesCbc128(key, new Uint8Array(40)))).toBe('ERR_IPMI_PADDING');
    expect(codeOf(() => decryptAesCbc128(key, new Uint8Array(16)))).toBe('ERR_IPMI_PADDING');
  });
});

function suiteCrypto(suite: 3 | 17): SessionCrypto {
  const s = STANDARD_CIPHER_SUITES[suite]!;
  const n = suite === 3 ? 20 : 32;
  return { integrityAlgorithm: s.integrityAlgorithm, confidentialityAlgorithm: s.confidentialityAlgorithm, k1: rng(n), k2: rng(n) };
}

describe('sealIpmi2Packet / openIpmi2Packet', () => {
  it('reproduces captured ipmitool datagrams byte-for-byte (pre-session and, given its IV, in-session)', () => {
    const open = fromHex(RAW_GET_DEVICE_ID_EXCHANGE[2]!.hex);
    const sealed = sealIpmi2Packet(NO_SESSION_CRYPTO, { sessionId: 0, sessionSeq: 0, payloadType: PayloadType.OPEN_SESSION_REQUEST, payload: open.subarray(16) }, rng);
    expect(toHex(sealed)).toBe(toHex(open));
  });

  for (const suite of [3, 17] as const) {
    it(`suite ${suite}: open(seal(m)) == m for any payload, session id and sequence`, () => {
      const crypto = suiteCrypto(suite);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (payload, sessionId, sessionSeq) => {
          const m = { sessionId, sessionSeq, payloadType: PayloadType.IPMI, payload };
          const got = openIpmi2Packet(crypto, sealIpmi2Packet(crypto, m, rng));
          expect(got).toEqual(m);
        }),
        { numRuns: 200 },
      );
    });

    it(`suite ${suite}: flipping any bit after the RMCP header is detected`, () => {
      const crypto = suiteCrypto(suite);
      const packet = sealIpmi2Packet(crypto, { sessionId: 7, sessionSeq: 9, payloadType: PayloadType.IPMI, payload: fromHex('20 18 c8 81 04 01 63') }, rng);
      fc.assert(
        fc.property(fc.integer({ min: 4 * 8, max: packet.length * 8 - 1 }), (bit) => {
          const t = packet.slice();
          t[bit >> 3] = (t[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          expect(codeOf(() => openIpmi2Packet(crypto, t))).toBeDefined();
        }),
        { numRuns: 300 },
      );
    });

    it(`suite ${suite}: an unprotected packet is refused inside the session (no downgrade)`, () => {
      const crypto = suiteCrypto(suite);
      const plain = sealIpmi2Packet(NO_SESSION_CRYPTO, { sessionId: 7, sessionSeq: 9, payloadType: PayloadType.IPMI, payload: fromHex('20 18 c8 81 04 01 63') }, rng);
      expect(codeOf(() => openIpmi2Packet(crypto, plain))).toBe('ERR_IPMI_NOT_PROTECTED');
      const wrongKey = { ...crypto, k1: rng(crypto.k1.length) };
      const sealed = sealIpmi2Packet(crypto, { sessionId: 7, sessionSeq: 9, payloadType: PayloadType.IPMI, payload: new Uint8Array(3) }, rng);
      expect(codeOf(() => openIpmi2Packet(wrongKey, sealed))).toBe('ERR_IPMI_INTEGRITY');
    });
  }

  it('random datagrams only ever throw WireError', () => {
    const crypto = suiteCrypto(17);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        codeOf(() => openIpmi2Packet(crypto, b));
        codeOf(() => openIpmi2Packet(crypto, new Uint8Array([0x06, 0x00, 0xff, 0x07, 0x06, 0xc0, ...b])));
      }),
      { numRuns: 300 },
    );
  });
});
