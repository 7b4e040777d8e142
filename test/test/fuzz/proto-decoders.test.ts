// Bounded fuzzing of every proto decoder that reads bytes from a peer:
// fragments + reassembly, envelopes (peek and open), protobuf bodies.
import { randomBytes } from 'node:crypto';
import {
  Action,
  decodeBody,
  decodeFragment,
  Direction,
  encodeBody,
  EnvelopeKeys,
  InboundChannel,
  openEnvelope,
  peekEnvelopeHeader,
  Reassembler,
  sealEnvelope,
  sealRecords,
  WireError,
} from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { FUZZ_SCALE, fuzz, type FuzzTarget } from '../../src/fuzz/harness.js';

const NOW = Date.UTC(2026, 10, 21);
const keys = new EnvelopeKeys(new Uint8Array(32).fill(3), 'hv-fuzz');
const rng = (n: number) => new Uint8Array(randomBytes(n));
const isWire = (err: unknown) => err instanceof WireError;

const body = {
  ack: { cumulativeId: 3, selectiveIds: [5] },
  commandRequest: { requestId: 'r-1', principal: 'alice', action: Action.ACTION_REBOOT, domain: 'web-1', parameters: { a: 'b' }, issuedAtMs: NOW, hostId: 'hv-fuzz' },
};
const envelope = sealEnvelope(keys, { direction: Direction.DIRECTION_TO_HOST, messageId: 9, body, nowMs: NOW, randomBytes: rng });
const records = sealRecords({ keys, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: 48, randomBytes: rng }, 10, body, NOW);

const targets: Array<[FuzzTarget, number]> = [
  [{ name: 'fragment', corpus: records, run: decodeFragment, isExpectedError: isWire }, 50_000],
  [
    {
      name: 'reassembler',
      corpus: records,
      run: (() => {
        const r = new Reassembler({ maxMessageBytes: 4096 });
        return (input: Uint8Array) => r.push(input);
      })(),
      isExpectedError: isWire,
    },
    50_000,
  ],
  [{ name: 'envelope-peek', corpus: [envelope], run: peekEnvelopeHeader, isExpectedError: isWire }, 30_000],
  [
    {
      name: 'envelope-open',
      corpus: [envelope],
      run: (input) => openEnvelope(keys, input, { direction: Direction.DIRECTION_TO_HOST, nowMs: NOW }),
      isExpectedError: isWire,
    },
    20_000,
  ],
  [{ name: 'protobuf-body', corpus: [encodeBody(body)], run: decodeBody, isExpectedError: isWire }, 50_000],
  [
    {
      name: 'inbound-channel',
      corpus: records,
      run: (() => {
        const ch = new InboundChannel({ keys, receiveDirection: Direction.DIRECTION_TO_HOST, maxMessageBytes: 4096 });
        return (input: Uint8Array) => ch.pushRecord(input, NOW);
      })(),
      isExpectedError: () => false, // pushRecord reports problems as events, never throws
    },
    30_000,
  ],
];

describe('fuzz: proto decoders', () => {
  for (const [target, iterations] of targets) {
    it(`${target.name}: ${iterations * FUZZ_SCALE} inputs, only the codec's own errors`, () => {
      const report = fuzz(target, iterations * FUZZ_SCALE);
      expect(report.failures).toEqual([]);
      expect(report.executions).toBeGreaterThanOrEqual(iterations * FUZZ_SCALE);
    });
  }
});
