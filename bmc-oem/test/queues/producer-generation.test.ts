/**
 * Claim Producer Generation (OEM 0x04) and fencing in the queue engine
 * (docs/bmc-queues.md "Producer generation"): every rule and completion
 * code, per LAN session, with the engine in-process.
 */
import { describe, expect, it } from 'vitest';
import { decodeGenerationResponse, encodeClaimGenerationRequest, encodeOemRequest, OemCommand, OemCompletion, type OemQueueRequest, oemRequestCommand } from '@backchannel/proto';
import { ProducerFence } from '../../src/queues/producer-fence.js';
import { QueueEngine } from '../../src/queues/queue-engine.js';
import { ADMIN, bytes, countingRandom, getRec, IANA, info, OPERATOR, put, type Req, USER } from './helpers.js';

const engine = () => new QueueEngine({ iana: IANA, randomBytes: countingRandom() });
const body = (b: Uint8Array) => b.subarray(3); // execute() takes the bytes after the IANA
const claim = (e: QueueEngine, session: string | undefined, generation: number, privilege = OPERATOR, side: 'lan' | 'system' = 'lan') =>
  e.execute(OemCommand.ClaimProducerGeneration, side, privilege, body(encodeClaimGenerationRequest({ iana: IANA, generation })), session);
const on = (e: QueueEngine, session: string | undefined, req: Req) => {
  const full = { ...req, iana: IANA } as OemQueueRequest;
  return e.execute(oemRequestCommand(full), 'lan', OPERATOR, body(encodeOemRequest(full)), session);
};
const current = (r: { data: Uint8Array }) => decodeGenerationResponse(Uint8Array.from([0xd9, 0x7e, 0x00, ...r.data])).currentGeneration;

describe('ProducerFence', () => {
  it('admits everyone until a generation is claimed, then only sessions bound to the highest one', () => {
    const f = new ProducerFence(2);
    expect(f.admits(undefined)).toBe(true);
    expect(f.claim('s1', 3)).toBe(true);
    expect([f.admits('s1'), f.admits('s2'), f.admits(undefined)]).toEqual([true, false, false]);
    expect(f.claim('s2', 2)).toBe(false);
    expect(f.claim('s2', 3)).toBe(true); // the same owner's second session
    expect(f.admits('s2')).toBe(true);
    expect(f.claim('s3', 4)).toBe(true);
    expect([f.admits('s1'), f.admits('s2'), f.admits('s3')]).toEqual([false, false, true]);
    expect(f.current).toBe(4);
    f.claim('s4', 4);
    f.claim('s5', 4); // at most two bindings kept: s3 is forgotten and must claim again
    expect(f.admits('s3')).toBe(false);
  });
});

describe('QueueEngine: Claim Producer Generation (0x04)', () => {
  it('binds the session, answers the current generation, and refuses an older claim with 0x81', () => {
    const e = engine();
    const r = claim(e, 'A', 5);
    expect(r.cc).toBe(OemCompletion.Ok);
    expect(current(r)).toBe(5);
    const stale = claim(e, 'B', 4);
    expect(stale.cc).toBe(OemCompletion.Fenced);
    expect(current(stale)).toBe(5);
    expect(claim(e, 'B', 5).cc).toBe(OemCompletion.Ok);
    expect(e.producerGeneration).toBe(5);
    expect([e.stats.claims, e.stats.staleClaims]).toEqual([2, 1]);
  });

  it('is for LAN sessions of an OPERATOR or above: system side, USER and no session → 0xD4; generation 0 → 0xCC; wrong length → 0xC7', () => {
    const e = engine();
    expect(claim(e, 'A', 1, USER).cc).toBe(OemCompletion.InsufficientPrivilege);
    expect(claim(e, undefined, 1).cc).toBe(OemCompletion.InsufficientPrivilege);
    expect(claim(e, 'A', 1, ADMIN, 'system').cc).toBe(OemCompletion.InsufficientPrivilege);
    expect(claim(e, 'A', 0).cc).toBe(OemCompletion.InvalidDataField);
    expect(e.execute(OemCommand.ClaimProducerGeneration, 'lan', OPERATOR, bytes(1, 0, 0), 'A').cc).toBe(OemCompletion.RequestLengthInvalid);
    expect(e.execute(0x05, 'lan', OPERATOR, bytes(1), 'A').cc).toBe(OemCompletion.InvalidCommand);
    expect(e.producerGeneration).toBe(0);
  });

  it('once the new owner has claimed, Put and Get Record of the old owner are refused with 0x81 and change nothing; the new owner goes on', () => {
    const e = engine();
    // Before any claim nothing is fenced (stock ipmitool, older managers).
    expect(on(e, undefined, put(1, 1, bytes(1))).cc).toBe(OemCompletion.Ok);
    claim(e, 'old', 1);
    expect(on(e, 'old', put(1, 2, bytes(2))).cc).toBe(OemCompletion.Ok);
    expect(on(e, 'stranger', put(1, 3, bytes(3))).cc).toBe(OemCompletion.Fenced); // unbound after a claim
    claim(e, 'new', 2);
    const refused = on(e, 'old', put(1, 3, bytes(3)));
    expect(refused.cc).toBe(OemCompletion.Fenced);
    expect(current(refused)).toBe(2);
    expect(on(e, 'old', getRec(2, 0)).cc).toBe(OemCompletion.Fenced);
    expect(e.snapshot(1)?.lastPutSeq).toBe(2);
    expect(on(e, 'old', info(1)).cc).toBe(OemCompletion.Ok); // reading the queue's figures changes nothing: allowed
    expect(on(e, 'new', put(1, 3, bytes(3))).cc).toBe(OemCompletion.Ok);
    expect(on(e, 'new', getRec(2, 0)).cc).toBe(OemCompletion.Ok);
    expect(e.snapshot(1)?.lastPutSeq).toBe(3);
    expect([e.stats.fencedPuts, e.stats.fencedGets]).toEqual([2, 1]);
    // The host side (system interface) is never fenced.
    const full = { kind: 'put-record', queue: 2, seq: 1, record: bytes(9), iana: IANA } as OemQueueRequest;
    expect(e.handle(oemRequestCommand(full), 'system', ADMIN, encodeOemRequest(full)).cc).toBe(OemCompletion.Ok);
  });
});
