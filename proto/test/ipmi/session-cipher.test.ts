// SessionCipher (the per-session seal/open) against a reference built the
// straightforward way from the separate codecs (header encoder, one-shot
// AES-CBC with node's own CBC mode, trailer appender, datagram decoder):
// same bytes out, the same verdict (and error code) for any input, across
// many packets on one instance (the AES chaining state carries over).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AesCbc128,
  appendIntegrityTrailer,
  decodeRmcpDatagram,
  decryptAesCbc128,
  encodeIpmi20Session,
  encryptAesCbc128,
  integrityAlgorithmInfo,
  type Ipmi2Message,
  ipmi20HeaderLength,
  PayloadType,
  peekIpmi20Session,
  pooledRandomBytes,
  SessionCipher,
  type SessionCrypto,
  STANDARD_CIPHER_SUITES,
  toHex,
  verifyIntegrityTrailer,
  WireError,
} from '../../src/index.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function suiteCrypto(suite: 3 | 17): SessionCrypto {
  const s = STANDARD_CIPHER_SUITES[suite]!;
  const n = suite === 3 ? 20 : 32;
  return { integrityAlgorithm: s.integrityAlgorithm, confidentialityAlgorithm: s.confidentialityAlgorithm, k1: rng(n), k2: rng(n) };
}

function referenceSeal(c: SessionCrypto, m: Ipmi2Message, iv: Uint8Array): Uint8Array {
  const payload = encryptAesCbc128(c.k2.subarray(0, 16), iv, m.payload);
  const unsigned = encodeIpmi20Session({ payloadType: m.payloadType, encrypted: true, authenticated: true, sessionId: m.sessionId, sessionSeq: m.sessionSeq, payload, trailer: new Uint8Array(0) });
  const session = appendIntegrityTrailer(unsigned, integrityAlgorithmInfo(c.integrityAlgorithm)!, c.k1);
  return new Uint8Array([0x06, 0x00, 0xff, 0x07, ...session]);
}

/** The checks in the order IPMI v2.0 §13.28 gives them, from the general decoders. */
function referenceOpen(c: SessionCrypto, datagram: Uint8Array): Ipmi2Message {
  const d = decodeRmcpDatagram(datagram);
  if (d.kind !== 'ipmi20') throw new WireError('ERR_BAD_FIELD', 'not v2.0', 4);
  const s = d.session;
  if (s.oem) throw new WireError('ERR_IPMI_UNSUPPORTED', 'oem', 5);
  if (!s.authenticated) throw new WireError('ERR_IPMI_NOT_PROTECTED', 'no integrity', 5);
  if (!s.encrypted) throw new WireError('ERR_IPMI_NOT_PROTECTED', 'no confidentiality', 5);
  verifyIntegrityTrailer(datagram.subarray(4), ipmi20HeaderLength(s.payloadType) + s.payload.length, integrityAlgorithmInfo(c.integrityAlgorithm)!, c.k1);
  return { sessionId: s.sessionId, sessionSeq: s.sessionSeq, payloadType: s.payloadType, payload: decryptAesCbc128(c.k2.subarray(0, 16), s.payload) };
}

function outcome(fn: () => Ipmi2Message): string {
  try {
    const m = fn();
    return `ok ${m.sessionId} ${m.sessionSeq} ${m.payloadType} ${toHex(m.payload)}`;
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
}

const message = fc.record({
  sessionId: fc.integer({ min: 0, max: 0xffffffff }),
  sessionSeq: fc.integer({ min: 0, max: 0xffffffff }),
  payloadType: fc.constant(PayloadType.IPMI),
  payload: fc.uint8Array({ maxLength: 260 }),
});

describe('AesCbc128 (one key schedule, many IVs)', () => {
  it('each packet equals node CBC with a fresh context and that IV, whatever came before', () => {
    const key = rng(16);
    const aes = new AesCbc128(key);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 100 }), (iv, plain) => {
        const out = new Uint8Array(200);
        const n = aes.encryptInto(iv, plain, out, 7);
        const want = encryptAesCbc128(key, iv, plain);
        expect(toHex(out.subarray(7, 7 + n))).toBe(toHex(want));
        expect(toHex(aes.decrypt(want))).toBe(toHex(plain));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bad pads and partial blocks like the one-shot decrypt', () => {
    const key = rng(16);
    const aes = new AesCbc128(key);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const code = (fn: () => unknown): string => {
          try {
            return toHex(fn() as Uint8Array);
          } catch (err) {
            if (err instanceof WireError) return err.code;
            throw err;
          }
        };
        expect(code(() => aes.decrypt(b))).toBe(code(() => decryptAesCbc128(key, b)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('SessionCipher', () => {
  for (const suite of [3, 17] as const) {
    it(`suite ${suite}: seal on one instance reproduces the reference for every packet of a sequence`, () => {
      const c = suiteCrypto(suite);
      const cipher = new SessionCipher(c);
      fc.assert(
        fc.property(fc.array(fc.tuple(message, fc.uint8Array({ minLength: 16, maxLength: 16 })), { minLength: 1, maxLength: 8 }), (packets) => {
          for (const [m, iv] of packets) expect(toHex(cipher.seal(m, () => iv))).toBe(toHex(referenceSeal(c, m, iv)));
        }),
        { numRuns: 150 },
      );
    });

    it(`suite ${suite}: open agrees with the reference on sealed, mutated and random datagrams`, () => {
      const c = suiteCrypto(suite);
      const cipher = new SessionCipher(c);
      const sealed = fc.tuple(message, fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([m, iv]) => referenceSeal(c, m, iv));
      const mutated = fc.tuple(sealed, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([d, at, x]) => {
        const t = d.slice();
        t[at % t.length] = (t[at % t.length] ?? 0) ^ x;
        return t;
      });
      const cut = fc.tuple(sealed, fc.nat()).map(([d, n]) => d.subarray(0, n % (d.length + 1)));
      const random = fc.uint8Array({ maxLength: 120 }).map((b) => new Uint8Array([0x06, 0x00, 0xff, 0x07, 0x06, 0xc0, ...b]));
      fc.assert(
        fc.property(fc.oneof(sealed, mutated, cut, random, fc.uint8Array({ maxLength: 60 })), (d) => {
          expect(outcome(() => cipher.open(d))).toBe(outcome(() => referenceOpen(c, d)));
        }),
        { numRuns: 1500 },
      );
    });
  }
});

describe('pooledRandomBytes', () => {
  it('hands out each source byte once, in order, and passes large requests through', () => {
    let counter = 0;
    const calls: number[] = [];
    const source = (n: number): Uint8Array => {
      calls.push(n);
      return Uint8Array.from({ length: n }, () => counter++ & 0xff);
    };
    const pool = pooledRandomBytes(source, 256);
    const got: number[] = [];
    for (const n of [16, 16, 8, 8, 32, 16, 32, 32, 32, 32, 32]) got.push(...pool(n));
    expect(got).toEqual(Array.from({ length: 256 }, (_, i) => i));
    expect(calls).toEqual([256]);
    expect([...pool(4)]).toEqual([0, 1, 2, 3]);
    expect(calls).toEqual([256, 256]);
    expect(pool(33).length).toBe(33); // over 256/8: straight from the source
    expect(calls).toEqual([256, 256, 33]);
    expect(() => pooledRandomBytes(() => new Uint8Array(3), 64)(8)).toThrow(WireError);
    expect(() => pooledRandomBytes(source, 8)).toThrow(RangeError);
  });
});

describe('peekIpmi20Session', () => {
  it('answers exactly when the datagram decoder sees a standard IPMI v2.0 packet, with its fields', () => {
    const c = suiteCrypto(17);
    const sealed = fc.tuple(message, fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([m, iv]) => referenceSeal(c, m, iv));
    const mutated = fc.tuple(sealed, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([d, at, x]) => {
      const t = d.slice();
      t[at % Math.min(t.length, 20)] = (t[at % Math.min(t.length, 20)] ?? 0) ^ x;
      return t;
    });
    const plain = fc
      .tuple(fc.integer({ min: 0, max: 0x3f }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 3 }))
      .map(([type, payload, extra]) => new Uint8Array([0x06, 0x00, 0xff, 0x07, 0x06, type, 1, 2, 3, 4, 5, 6, 7, 8, payload.length, 0, ...payload, ...new Uint8Array(extra)]));
    fc.assert(
      fc.property(fc.oneof(sealed, mutated, plain, fc.uint8Array({ maxLength: 40 })), (d) => {
        let want: string | undefined;
        try {
          const r = decodeRmcpDatagram(d);
          if (r.kind === 'ipmi20' && !r.session.oem) want = `${r.session.sessionId} ${r.session.sessionSeq} ${r.session.payloadType}`;
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
        }
        const p = peekIpmi20Session(d);
        expect(p === undefined ? undefined : `${p.sessionId} ${p.sessionSeq} ${p.payloadType}`).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });
});
