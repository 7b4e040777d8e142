import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Action,
  type Body,
  Direction,
  ENVELOPE_MAGIC,
  EnvelopeKeys,
  GCM_TAG_BYTES,
  openEnvelope,
  peekEnvelopeHeader,
  sealEnvelope,
  v1,
  WireError,
} from '../src/index.js';

const SEED = new Uint8Array(32).map((_, i) => i * 7 + 1);
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const rng = (n: number) => new Uint8Array(randomBytes(n));
const keys = new EnvelopeKeys(SEED, 'hv-01', { stepSeconds: 30, skewSteps: 1 });

const body: Body = {
  ack: { cumulativeId: 41, selectiveIds: [43] },
  commandRequest: {
    requestId: '5f1d2c3e-0000-4000-8000-000000000001',
    principal: 'alice',
    action: Action.ACTION_SHUTDOWN,
    domain: 'web-1',
    parameters: { timeoutSeconds: '60' },
    issuedAtMs: NOW,
    hostId: 'hv-01',
  },
};

function seal(overrides: Partial<{ keys: EnvelopeKeys; direction: Direction; nowMs: number; messageId: number }> = {}) {
  return sealEnvelope(overrides.keys ?? keys, {
    direction: overrides.direction ?? Direction.DIRECTION_TO_HOST,
    messageId: overrides.messageId ?? 42,
    body,
    nowMs: overrides.nowMs ?? NOW,
    randomBytes: rng,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
  return undefined;
}

describe('envelope seal/open', () => {
  it('round-trips header and body', () => {
    const sealed = seal();
    expect(sealed[0]).toBe(ENVELOPE_MAGIC);
    const opened = openEnvelope(keys, sealed, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW });
    expect(opened.header.hostId).toBe('hv-01');
    expect(opened.header.messageId).toBe(42);
    expect(opened.header.timeStep).toBe(Math.floor(NOW / 30_000));
    expect(opened.body.payload).toBe('commandRequest');
    expect(opened.body.commandRequest?.domain).toBe('web-1');
    expect(opened.body.commandRequest?.parameters).toEqual({ timeoutSeconds: '60' });
    expect(opened.body.ack?.cumulativeId).toBe(41);
  });

  it('hides the body: the plaintext domain name is not in the sealed bytes', () => {
    expect(Buffer.from(seal()).includes(Buffer.from('web-1'))).toBe(false);
  });

  it('uses a fresh IV each time', () => {
    expect(Buffer.from(seal()).equals(Buffer.from(seal()))).toBe(false);
  });

  it('rejects every single-byte flip of a sealed envelope', () => {
    const sealed = seal();
    const headerEnd = 3 + (sealed[2] ?? 0);
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = Uint8Array.from(sealed);
        bad[i] = (bad[i] ?? 0) ^ mask;
        const code = codeOf(() => openEnvelope(keys, bad, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW }));
        expect(code, `flip of byte ${i} mask ${mask}`).toBeDefined();
        if (i >= headerEnd) expect(code).toBe('ERR_ENVELOPE_TAMPERED');
      }
    }
  });

  it('accepts steps within the skew and rejects those outside it', () => {
    const step = 30_000;
    for (const delta of [-1, 0, 1]) {
      expect(() => openEnvelope(keys, seal({ nowMs: NOW + delta * step }), { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW })).not.toThrow();
    }
    for (const delta of [-2, 2, -100]) {
      const code = codeOf(() => openEnvelope(keys, seal({ nowMs: NOW + delta * step }), { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW }));
      expect(code).toBe('ERR_ENVELOPE_STALE_STEP');
    }
  });

  it('with skew 0 accepts only the current step', () => {
    const strict = new EnvelopeKeys(SEED, 'hv-01', { skewSteps: 0 });
    const sealed = seal({ keys: strict });
    expect(() => openEnvelope(strict, sealed, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW })).not.toThrow();
    expect(codeOf(() => openEnvelope(strict, sealed, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW + 30_000 }))).toBe(
      'ERR_ENVELOPE_STALE_STEP',
    );
  });

  it('rejects another host, another direction and another seed', () => {
    const sealed = seal();
    const otherHost = new EnvelopeKeys(SEED, 'hv-02');
    expect(codeOf(() => openEnvelope(otherHost, sealed, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW }))).toBe('ERR_ENVELOPE_WRONG_HOST');
    expect(codeOf(() => openEnvelope(keys, sealed, { direction: Direction.DIRECTION_TO_MANAGER, nowMs: NOW }))).toBe(
      'ERR_ENVELOPE_WRONG_DIRECTION',
    );
    const otherSeed = new EnvelopeKeys(new Uint8Array(32).fill(9), 'hv-01');
    expect(codeOf(() => openEnvelope(otherSeed, sealed, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW }))).toBe('ERR_ENVELOPE_TAMPERED');
  });

  it('rejects truncation, extension and garbage with codes', () => {
    const sealed = seal();
    expect(codeOf(() => openEnvelope(keys, sealed.subarray(0, sealed.length - 1), { direction: 1, nowMs: NOW }))).toBe('ERR_ENVELOPE_TAMPERED');
    expect(codeOf(() => openEnvelope(keys, sealed.subarray(0, 10), { direction: 1, nowMs: NOW }))).toBe('ERR_ENVELOPE_MALFORMED');
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect(codeOf(() => openEnvelope(keys, longer, { direction: 1, nowMs: NOW }))).toBe('ERR_ENVELOPE_TAMPERED');
    expect(codeOf(() => openEnvelope(keys, new Uint8Array(40), { direction: 1, nowMs: NOW }))).toBe('ERR_ENVELOPE_MALFORMED');
    const badVersion = Uint8Array.from(sealed);
    badVersion[1] = 2;
    expect(codeOf(() => peekEnvelopeHeader(badVersion))).toBe('ERR_ENVELOPE_BAD_VERSION');
  });

  it('refuses a message id that is not a positive integer', () => {
    expect(codeOf(() => seal({ messageId: 0 }))).toBe('ERR_BAD_FIELD');
    expect(codeOf(() => seal({ messageId: 1.5 }))).toBe('ERR_BAD_FIELD');
  });

  it('keeps unknown body fields from a newer peer through seal and open', () => {
    const known = v1.Body.encode({ resync: { bmcEpoch: 7 } }).finish();
    const unknownField = Uint8Array.from([0xf8, 0x06, 0x2a]); // field 111, varint 42
    const newer = v1.Body.decode(Uint8Array.from([...known, ...unknownField]));
    const sealed = sealEnvelope(keys, { direction: Direction.DIRECTION_TO_MANAGER, messageId: 1, body: newer, nowMs: NOW, randomBytes: rng });
    const opened = openEnvelope(keys, sealed, { direction: Direction.DIRECTION_TO_MANAGER, nowMs: NOW });
    expect(Number(opened.body.sentAtMs)).toBe(NOW);
    opened.body.sentAtMs = 0;
    expect(Buffer.from(v1.Body.encode(opened.body).finish()).toString('hex')).toBe(Buffer.from([...known, ...unknownField]).toString('hex'));
  });

  it('costs a fixed overhead: prefix, header and tag', () => {
    const sealed = seal();
    const bodyBytes = v1.Body.encode(body).finish().length + v1.Body.encode({ sentAtMs: NOW }).finish().length; // + sent_at_ms
    const headerBytes = sealed[2] ?? 0;
    expect(sealed.length).toBe(3 + headerBytes + bodyBytes + GCM_TAG_BYTES);
    expect(3 + headerBytes + GCM_TAG_BYTES).toBeLessThanOrEqual(60);
  });
});
