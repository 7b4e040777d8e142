import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode, crc32, encodeSerialFrame, fromHex, SerialFrameDecoder, toHex, utf8 } from '../../src/index.js';

const payload = fc.uint8Array({ minLength: 0, maxLength: 600 });

describe('CRC-32', () => {
  it('matches the IEEE check value', () => {
    expect(crc32(utf8('123456789')).toString(16)).toBe('cbf43926');
  });
});

describe('COBS', () => {
  it('encodes the paper examples', () => {
    expect(toHex(cobsEncode(fromHex('00')))).toBe('0101');
    expect(toHex(cobsEncode(fromHex('0000')))).toBe('010101');
    expect(toHex(cobsEncode(fromHex('11220033')))).toBe('03112202' + '33');
    expect(toHex(cobsEncode(fromHex('11223344')))).toBe('0511223344');
  });
  it('254 non-zero bytes take one 0xFF block', () => {
    const src = new Uint8Array(254).fill(7);
    const enc = cobsEncode(src);
    expect(enc[0]).toBe(0xff);
    expect(enc.length).toBe(256);
    expect(toHex(cobsDecode(enc)!)).toBe(toHex(src));
  });
  it('round-trips and never emits 0x00', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const enc = cobsEncode(p);
        expect(enc.includes(0)).toBe(false);
        expect(toHex(cobsDecode(enc)!)).toBe(toHex(p));
      }),
    );
  });
  it('refuses a code pointing past the end', () => {
    expect(cobsDecode(fromHex('0511'))).toBeUndefined();
  });
});

describe('serial frames', () => {
  it('frame layout: delimiter, COBS(payload ‖ CRC-32 LE), delimiter', () => {
    // payload 31 32 33; CRC-32("123") = 0x884863d2 → d2 63 48 88
    expect(toHex(encodeSerialFrame(utf8('123')))).toBe('00' + '08313233d2634888' + '00');
  });

  it('decodes frames however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (ps, cuts) => {
        const stream = Uint8Array.from(ps.flatMap((p) => [...encodeSerialFrame(p)]));
        const d = new SerialFrameDecoder();
        const got: Uint8Array[] = [];
        let at = 0;
        let k = 0;
        while (at < stream.length) {
          const n = cuts[k++ % cuts.length]!;
          got.push(...d.push(stream.subarray(at, at + n)));
          at += n;
        }
        expect(got.map(toHex)).toEqual(ps.map(toHex));
      }),
    );
  });

  it('resynchronises after garbage: a getty banner, kernel messages, random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), payload, payload, (garbage, a, b) => {
        const d = new SerialFrameDecoder();
        const got = [
          ...d.push(encodeSerialFrame(a)),
          ...d.push(utf8('\r\nUbuntu 24.04 LTS host ttyS1\r\n\r\nhost login: [  12.345] serial8250: too much work\r\n')),
          ...d.push(garbage),
          ...d.push(encodeSerialFrame(b)),
        ];
        // The garbage may hold frames only if it happens to contain valid ones; random bytes never do in practice,
        // and whatever comes out must be one of the frames sent.
        const sent = new Set([toHex(a), toHex(b)]);
        for (const g of got) expect(sent.has(toHex(g))).toBe(true);
        expect(toHex(got[0]!)).toBe(toHex(a));
        expect(toHex(got[got.length - 1]!)).toBe(toHex(b));
      }),
    );
  });

  it('truncated frames are dropped and never merged into a wrong frame', () => {
    fc.assert(
      fc.property(payload, payload, fc.nat(), (a, b, cutSeed) => {
        const fa = encodeSerialFrame(a);
        const cut = 1 + (cutSeed % (fa.length - 2)); // keep the leading delimiter, lose the end
        const d = new SerialFrameDecoder();
        const got = [...d.push(fa.subarray(0, cut)), ...d.push(encodeSerialFrame(b))];
        expect(got.map(toHex)).toEqual([toHex(b)]);
      }),
    );
  });

  it('bit flips never yield a wrong frame', () => {
    fc.assert(
      fc.property(payload, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), (p, flips) => {
        const f = encodeSerialFrame(p);
        const bad = f.slice();
        for (const [pos, bit] of flips) bad[1 + (pos % (bad.length - 2))]! ^= 1 << bit;
        const got = new SerialFrameDecoder().push(bad);
        // Either the flips cancelled out (same bytes), or nothing / the original comes out.
        for (const g of got) expect(toHex(g)).toBe(toHex(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('drops an over-long run without a delimiter and recovers at the next one', () => {
    const d = new SerialFrameDecoder(16);
    expect(d.push(new Uint8Array(100).fill(0x41))).toEqual([]);
    expect(d.stats.oversize).toBe(1);
    expect(d.push(encodeSerialFrame(utf8('ok'))).map(toHex)).toEqual([toHex(utf8('ok'))]);
  });

  it('random bytes never produce a frame whose CRC was not computed by an encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), (noise) => {
        const d = new SerialFrameDecoder();
        for (const g of d.push(noise)) {
          // Anything accepted must re-encode to bytes present in the noise (it was a real frame in it).
          const enc = encodeSerialFrame(g);
          expect(toHex(noise)).toContain(toHex(enc.subarray(1, enc.length - 1)));
        }
      }),
    );
  });
});
