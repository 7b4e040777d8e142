// The pure session state machine, driven with explicit times. The BMC side
// of each exchange is built with the same proto codecs a BMC uses.
import { randomBytes } from 'node:crypto';
import {
  decodeIpmiLanRequest,
  encodeIpmiLanResponse,
  openIpmi2Packet,
  PayloadType,
  sealIpmi2Packet,
  type SessionCrypto,
} from '@backchannel/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InboundWindow } from '../../src/rmcp/inbound-window.js';
import { RttEstimator } from '../../src/rmcp/rtt-estimator.js';
import { SessionState } from '../../src/rmcp/session-state.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const crypto: SessionCrypto = { integrityAlgorithm: 4, confidentialityAlgorithm: 1, k1: rng(32), k2: rng(32) };
const BMC_ID = 0x1234;
const CONSOLE_ID = 0xabcd;

/** A fixed 100 ms RTO (min = max = initial), so the schedule is easy to read; rtt-estimator.test.ts covers the adaptive one. */
function state(giveUpMs = 300, maxInFlight?: number): SessionState {
  const rtt = new RttEstimator({ initialRtoMs: 100, minRtoMs: 100, maxRtoMs: 100 });
  return new SessionState({ crypto, bmcSessionId: BMC_ID, consoleSessionId: CONSOLE_ID, randomBytes: rng, rtt, giveUpMs, now: 0, ...(maxInFlight ? { maxInFlight } : {}) });
}

/** What the BMC sees: session seq and the IPMI request. */
function bmcReads(datagram: Uint8Array) {
  const m = openIpmi2Packet(crypto, datagram);
  expect(m.sessionId).toBe(BMC_ID);
  return { sessionSeq: m.sessionSeq, request: decodeIpmiLanRequest(m.payload) };
}

let bmcSeq = 0;
function bmcAnswers(datagram: Uint8Array, cc = 0, data = new Uint8Array([1, 2, 3])): Uint8Array {
  const { request: q } = bmcReads(datagram);
  const payload = encodeIpmiLanResponse({ rqAddr: q.rqAddr, netFn: q.netFn | 1, rqLun: q.rqLun, rsAddr: q.rsAddr, rqSeq: q.rqSeq, rsLun: q.rsLun, cmd: q.cmd, cc, data });
  return sealIpmi2Packet(crypto, { sessionId: CONSOLE_ID, sessionSeq: ++bmcSeq, payloadType: PayloadType.IPMI, payload }, rng);
}

describe('SessionState', () => {
  it('gives requests in flight distinct rqSeq and stops at maxInFlight', () => {
    const s = state(300, 63);
    const seqs = new Set<number>();
    for (let i = 0; i < 63; i++) seqs.add(bmcReads(s.submit(6, 1, new Uint8Array(0), 0, 0).datagram).request.rqSeq);
    expect(seqs.size).toBe(63);
    expect(s.canSubmit()).toBe(false);
    expect(() => s.submit(6, 1, new Uint8Array(0), 0, 0)).toThrow(RangeError);
  });

  it('retransmits with the same rqSeq and the next session sequence number, then gives up after giveUpMs', () => {
    const s = state(300);
    const first = bmcReads(s.submit(6, 1, new Uint8Array(0), 0, 0).datagram);
    expect(s.due(99).retransmit).toHaveLength(0);
    const r1 = s.due(100);
    expect(r1.retransmit).toHaveLength(1);
    const again = bmcReads(r1.retransmit[0]!);
    expect(again.request.rqSeq).toBe(first.request.rqSeq);
    expect(again.sessionSeq).toBe(first.sessionSeq + 1);
    expect(s.due(200).retransmit).toHaveLength(1);
    const last = s.due(300);
    expect(last.retransmit).toHaveLength(0);
    expect(last.expired).toEqual([first.request.rqSeq]);
    // Nothing heard since the session opened at 0: the BMC is gone.
    expect(last.dead).toBe(true);
    expect(s.inFlight).toBe(0);
    expect(s.counters).toMatchObject({ sent: 1, retransmitted: 2, expired: 1 });
  });

  it("measures round trips by Karn's rule: only an answer to a request sent once is a sample", () => {
    const rtt = new RttEstimator({ initialRtoMs: 100, minRtoMs: 10, maxRtoMs: 1000 });
    const s = new SessionState({ crypto, bmcSessionId: BMC_ID, consoleSessionId: CONSOLE_ID, randomBytes: rng, rtt, giveUpMs: 5000, now: 0 });
    const once = s.submit(6, 1, new Uint8Array(0), 0, 0);
    expect(s.receive(bmcAnswers(once.datagram), 30).kind).toBe('response');
    expect(rtt.snapshot()).toMatchObject({ samples: 1, srttMs: 30, rtoMs: 30 + 4 * 15 });
    const twice = s.submit(6, 1, new Uint8Array(0), 0, 100);
    // RTO 90: resent at 190; the answer at 195 may be to either copy, so it is no measurement.
    expect(s.due(190).retransmit).toHaveLength(1);
    expect(s.receive(bmcAnswers(twice.datagram), 195).kind).toBe('response');
    expect(rtt.snapshot()).toMatchObject({ samples: 1, srttMs: 30 });
  });

  it('resends a request three times on the same RTO, then backs off, and keeps the back-off until an unambiguous answer', () => {
    const rtt = new RttEstimator({ initialRtoMs: 100, minRtoMs: 100, maxRtoMs: 10_000 });
    const s = new SessionState({ crypto, bmcSessionId: BMC_ID, consoleSessionId: CONSOLE_ID, randomBytes: rng, rtt, giveUpMs: 60_000, now: 0 });
    const slow = s.submit(6, 1, new Uint8Array(0), 0, 0);
    const resentAt: number[] = [];
    for (let t = 0; t <= 1500; t += 10) if (s.due(t).retransmit.length > 0) resentAt.push(t);
    // Linear: 100, 200, 300; then 200, 400, 800 ms apart.
    expect(resentAt).toEqual([100, 200, 300, 400, 600, 1000]);
    expect(rtt.backoffLevel).toBe(3);
    expect(s.receive(bmcAnswers(slow.datagram), 1100).kind).toBe('response');
    // Karn: the back-off stays for the next request, which is then answered in time and measured.
    expect(rtt.rtoMs).toBe(800);
    const next = s.submit(6, 1, new Uint8Array(0), 0, 1200);
    expect(s.receive(bmcAnswers(next.datagram), 1500).kind).toBe('response');
    expect(rtt.snapshot()).toMatchObject({ backoffLevel: 0, samples: 1, srttMs: 300 });
  });

  it('gives a request up after giveUpMs without an answer, but keeps a session whose BMC answers other requests', () => {
    const s = state(300);
    const lost = s.submit(6, 1, new Uint8Array(0), 0, 0);
    const other = s.submit(6, 2, new Uint8Array(0), 0, 250);
    expect(s.receive(bmcAnswers(other.datagram), 260).kind).toBe('response');
    const work = s.due(300);
    expect(work.expired).toEqual([lost.rqSeq]);
    expect(work.dead).toBe(false);
  });

  it('delivers one answer per request: a duplicate, a replay and a late answer are dropped', () => {
    const s = state();
    const sent = s.submit(6, 1, new Uint8Array(0), 0, 0);
    const answer = bmcAnswers(sent.datagram);
    expect(s.receive(answer, 1)).toEqual({ kind: 'response', rqSeq: sent.rqSeq, cc: 0, data: new Uint8Array([1, 2, 3]) });
    expect(s.receive(answer, 1)).toEqual({ kind: 'drop', reason: 'seq-duplicate' });
    // An answer (fresh session seq) to a request no longer pending:
    expect(s.receive(bmcAnswers(sent.datagram), 1)).toEqual({ kind: 'drop', reason: 'unmatched-response' });
    expect(s.counters.received).toBe(1);
  });

  it('drops tampered, foreign and unprotected datagrams without throwing', () => {
    const s = state();
    const sent = s.submit(6, 1, new Uint8Array(0), 0, 0);
    const answer = bmcAnswers(sent.datagram);
    const tampered = answer.slice();
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(s.receive(tampered, 1).kind).toBe('drop');
    expect(s.receive(new Uint8Array([1, 2, 3]), 1).kind).toBe('drop');
    const wrongCmd = sealIpmi2Packet(crypto, { sessionId: CONSOLE_ID, sessionSeq: ++bmcSeq, payloadType: 0, payload: encodeIpmiLanResponse({ rqAddr: 0x81, netFn: 7, rqLun: 0, rsAddr: 0x20, rqSeq: sent.rqSeq, rsLun: 0, cmd: 2, cc: 0, data: new Uint8Array(0) }) }, rng);
    expect(s.receive(wrongCmd, 1)).toEqual({ kind: 'drop', reason: 'unmatched-response' });
    expect(s.receive(answer, 1).kind).toBe('response');
  });

  it('never delivers garbage: random datagrams are dropped', () => {
    const s = state();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(s.receive(b, 1).kind).toBe('drop');
      }),
      { numRuns: 200 },
    );
  });
});

describe('InboundWindow', () => {
  it('accepts each number once, tolerates reordering within 32, drops older and zero', () => {
    const w = new InboundWindow();
    expect([5, 7, 6, 6, 5, 40, 9, 8, 39].map((n) => w.accept(n))).toEqual(['ok', 'ok', 'ok', 'duplicate', 'duplicate', 'ok', 'ok', 'too-old', 'ok']);
    expect(w.accept(0)).toBe('zero');
  });

  it('never accepts a number twice (any order)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 200 }), (seqs) => {
        const w = new InboundWindow();
        const accepted = new Set<number>();
        for (const n of seqs) {
          if (w.accept(n) === 'ok') {
            expect(accepted.has(n)).toBe(false);
            accepted.add(n);
          }
        }
      }),
    );
  });
});
