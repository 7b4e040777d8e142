// The envelope key schedule checked against an HKDF written out by hand with
// node:crypto's HMAC (RFC 5869 extract-then-expand), independent of the
// implementation's hkdfSync call.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveStepKey, Direction, EnvelopeKeys, fromHex, toHex, totpForStep, WireError } from '../src/index.js';

function hkdfByHand(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): string {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const t1 = createHmac('sha256', prk).update(info).update(Buffer.from([1])).digest();
  return t1.toString('hex');
}

function saltFor(seed: Uint8Array, step: number): Uint8Array {
  const stepBytes = Buffer.alloc(8);
  stepBytes.writeBigUInt64BE(BigInt(step));
  return Buffer.concat([Buffer.from(totpForStep(seed, step, 30), 'ascii'), stepBytes]);
}

function infoFor(direction: number, hostId: string): Uint8Array {
  return Buffer.concat([Buffer.from('backchannel/v1 envelope'), Buffer.from([0, direction]), Buffer.from(hostId)]);
}

const SEED = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

describe('envelope key schedule', () => {
  const cases: Array<[string, Direction, number]> = [
    ['hv-01', Direction.DIRECTION_TO_HOST, 0],
    ['hv-01', Direction.DIRECTION_TO_MANAGER, 0],
    ['hv-01', Direction.DIRECTION_TO_HOST, 59_000_000],
    ['rack7-node12.example', Direction.DIRECTION_TO_MANAGER, 56_666_666],
  ];
  for (const [host, direction, step] of cases) {
    it(`matches hand-written HKDF for ${host} dir ${direction} step ${step}`, () => {
      const expected = hkdfByHand(SEED, saltFor(SEED, step), infoFor(direction, host));
      expect(toHex(deriveStepKey(SEED, host, direction, step, 30))).toBe(expected);
    });
  }

  it('pins one vector, so a change to the schedule cannot pass unnoticed', () => {
    // Computed by hkdfByHand above for (SEED, "hv-01", to-host, step 56666666).
    const key = deriveStepKey(SEED, 'hv-01', Direction.DIRECTION_TO_HOST, 56_666_666, 30);
    expect(toHex(key)).toBe(hkdfByHand(SEED, saltFor(SEED, 56_666_666), infoFor(1, 'hv-01')));
    expect(toHex(key)).toMatchInlineSnapshot(`"a84349e38a6f67186b12cbc6fdde56ea9f94bc8ca16c5da585bceba81c0a322b"`);
  });

  it('gives every host, direction and step its own key', () => {
    const keys = new Set([
      toHex(deriveStepKey(SEED, 'a', Direction.DIRECTION_TO_HOST, 5, 30)),
      toHex(deriveStepKey(SEED, 'b', Direction.DIRECTION_TO_HOST, 5, 30)),
      toHex(deriveStepKey(SEED, 'a', Direction.DIRECTION_TO_MANAGER, 5, 30)),
      toHex(deriveStepKey(SEED, 'a', Direction.DIRECTION_TO_HOST, 6, 30)),
    ]);
    expect(keys.size).toBe(4);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => new EnvelopeKeys(new Uint8Array(16), 'hv')).toThrow(WireError);
    expect(() => deriveStepKey(new Uint8Array(31), 'hv', Direction.DIRECTION_TO_HOST, 1, 30)).toThrow(/32 bytes/);
  });

  it('maps clock time to steps', () => {
    const keys = new EnvelopeKeys(SEED, 'hv', { stepSeconds: 30 });
    expect(keys.stepAt(59_999)).toBe(1);
    expect(keys.stepAt(60_000)).toBe(2);
    expect(keys.keyFor(Direction.DIRECTION_TO_HOST, 2)).toEqual(deriveStepKey(SEED, 'hv', Direction.DIRECTION_TO_HOST, 2, 30));
  });
});
