/**
 * The link core with a fake clock: every step it asks for, every answer a
 * BMC can give (encoded with the proto codecs, as bmc-oem sends them), and
 * what it decides. The same core runs against bmc-oem's real QueueEngine in
 * the deterministic simulation (test/src/sim/link-sim.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeOemRequest,
  encodeGetRecordResponse,
  encodeOemErrorBody,
  encodePutRecordResponse,
  encodeQueueInfoResponse,
  OemCompletion,
  QueueHop,
  QueueHopError,
  type HopStep,
  type QueueHopTuning,
  QueueId,
} from '../../src/index.js';

const IANA = 32473;
const TUNING: Partial<QueueHopTuning> = { pollMinMs: 50, pollMaxMs: 400, replyPollMs: 1, queueInfoEveryMs: 10_000, queueFull: { initialMs: 200, maxMs: 1000 }, reconnect: { initialMs: 500, maxMs: 4000 } };

function info(queue: number, o: { epoch?: number; lastPutSeq?: number; maxRecord?: number } = {}) {
  return { cc: 0, data: encodeQueueInfoResponse({ iana: IANA, queue, bmcEpoch: o.epoch ?? 7, capacityBytes: 65536, usedBytes: 0, depth: 0, maxRecord: o.maxRecord ?? 200, lastPutSeq: o.lastPutSeq ?? 0, committedSeq: 0 }) };
}
const putOk = (lastPutSeq: number) => ({ cc: 0, data: encodePutRecordResponse({ iana: IANA, lastPutSeq }) });
const putCc = (cc: number, lastPutSeq: number) => ({ cc, data: encodePutRecordResponse({ iana: IANA, lastPutSeq }) });
const getRecord = (seq: number, record = new Uint8Array([seq])) => ({ cc: 0, data: encodeGetRecordResponse({ iana: IANA, committedSeq: 0, depth: 1, seq, record }) });
const getEmpty = () => ({ cc: 0, data: encodeGetRecordResponse({ iana: IANA, committedSeq: 0, depth: 0, seq: 0, record: new Uint8Array() }) });

function request(step: HopStep) {
  if (step.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(step)}`);
  return decodeOemRequest(step.cmd, step.data);
}

/** A manager-side hop, connected and synced with `lastPutSeq` on queue 1. */
function synced(o: { lastPutSeq?: number; epoch?: number; random?: () => number } = {}) {
  const hop = new QueueHop({ role: 'manager', iana: IANA, random: o.random ?? (() => 0.5), tuning: TUNING });
  hop.connected(0);
  expect(request(hop.next(0))).toMatchObject({ kind: 'get-queue-info', queue: QueueId.ToManager });
  expect(hop.onResponse(info(QueueId.ToManager, { epoch: o.epoch }), 0)).toEqual([]);
  expect(request(hop.next(0))).toMatchObject({ kind: 'get-queue-info', queue: QueueId.ToHost });
  const events = hop.onResponse(info(QueueId.ToHost, { lastPutSeq: o.lastPutSeq ?? 0, epoch: o.epoch }), 0);
  return { hop, events };
}

describe('QueueHop (link core)', () => {
  it('syncs both queues at connect, stores the epochs of a first contact without calling them a change, then asks for a message', () => {
    const { hop, events } = synced({ lastPutSeq: 41 });
    expect(events.map((e) => e.kind)).toEqual(['cursor', 'queues']);
    expect(events[0]).toEqual({ kind: 'cursor', cursor: { putEpoch: 7, getEpoch: 7, commitSeq: 0 } });
    expect(hop.lastPutSeq).toBe(41);
    expect(hop.maxRecord).toBe(200);
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
  });

  it('the host role puts on queue 2 and reads queue 1', () => {
    const hop = new QueueHop({ role: 'host', iana: IANA, random: () => 0.5 });
    hop.connected(0);
    expect(request(hop.next(0))).toMatchObject({ queue: QueueId.ToHost });
    hop.onResponse(info(QueueId.ToHost), 0);
    expect(request(hop.next(0))).toMatchObject({ queue: QueueId.ToManager });
    hop.onResponse(info(QueueId.ToManager, { lastPutSeq: 3 }), 0);
    hop.offer({ messageId: 1, records: [new Uint8Array([1])] }, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'put-record', queue: QueueId.ToManager, seq: 4 });
  });

  it('puts a message under consecutive seqs, then reads and commits only what was consumed, then idles on a doubling schedule', () => {
    const { hop } = synced({ lastPutSeq: 10 });
    hop.offer({ messageId: 5, records: [new Uint8Array([1]), new Uint8Array([2])] }, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'put-record', seq: 11, record: new Uint8Array([1]) });
    expect(hop.onResponse(putOk(11), 0)).toEqual([{ kind: 'record-put', seq: 11 }]);
    expect(request(hop.next(0))).toMatchObject({ kind: 'put-record', seq: 12, record: new Uint8Array([2]) });
    expect(hop.onResponse(putOk(12), 0)).toEqual([{ kind: 'record-put', seq: 12 }, { kind: 'message-put', messageId: 5 }]);
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
    hop.offer(undefined, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-record', queue: QueueId.ToManager, commitSeq: 0 });
    expect(hop.onResponse(getRecord(1), 0)).toEqual([{ kind: 'record', seq: 1, record: new Uint8Array([1]) }]);
    // Not consumed (the handler failed): the same record is read again, nothing committed.
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-record', commitSeq: 0 });
    hop.onResponse(getRecord(1), 0);
    hop.consumed(1);
    expect(request(hop.next(1))).toMatchObject({ kind: 'get-record', commitSeq: 1 });
    expect(hop.onResponse(getEmpty(), 1)).toEqual([{ kind: 'empty', atMs: 1 }]);
    expect(hop.cursor.commitSeq).toBe(1);
    // Traffic this turn: the floor; then empty turns double it up to the ceiling.
    expect(hop.next(1)).toEqual({ kind: 'wait', untilMs: 51 });
    expect(hop.next(30)).toEqual({ kind: 'wait', untilMs: 51 });
    const waits: number[] = [];
    let now = 51;
    for (let i = 0; i < 5; i++) {
      expect(hop.next(now)).toEqual({ kind: 'need-message' });
      hop.offer(undefined, now);
      expect(request(hop.next(now))).toMatchObject({ kind: 'get-record', commitSeq: 1 });
      hop.onResponse(getEmpty(), now);
      const wait = hop.next(now);
      if (wait.kind !== 'wait') throw new Error('expected a wait');
      waits.push(wait.untilMs - now);
      now = wait.untilMs;
    }
    expect(waits).toEqual([100, 200, 400, 400, 400]);
  });

  it('a wake ends the wait at once and brings polling back to the floor; a reply window polls at replyPollMs', () => {
    const { hop } = synced();
    hop.offer(undefined, 0);
    request(hop.next(0));
    hop.onResponse(getEmpty(), 0);
    expect(hop.next(0)).toEqual({ kind: 'wait', untilMs: 50 });
    hop.wake();
    expect(hop.next(10)).toEqual({ kind: 'need-message' });
    hop.offer(undefined, 10);
    hop.setReplyWindow(500);
    request(hop.next(10));
    hop.onResponse(getEmpty(), 10);
    expect(hop.next(10)).toEqual({ kind: 'wait', untilMs: 11 });
    hop.setReplyWindow(0);
  });

  it('reads at most recordsPerTurn records, then lets writes go first; a wake during reads does too', () => {
    const hop = new QueueHop({ role: 'manager', iana: IANA, random: () => 0.5, tuning: { ...TUNING, recordsPerTurn: 2 } });
    hop.connected(0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToManager), 0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToHost), 0);
    hop.offer(undefined, 0);
    for (const seq of [1, 2]) {
      request(hop.next(0));
      hop.onResponse(getRecord(seq), 0);
      hop.consumed(seq);
    }
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
    hop.offer(undefined, 0);
    request(hop.next(0));
    hop.onResponse(getRecord(3), 0);
    hop.consumed(3);
    hop.wake();
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
  });

  it('Put 0x80 (gap) resynchronises and sends the whole message again from its first record', () => {
    const { hop } = synced({ lastPutSeq: 4 });
    hop.offer({ messageId: 9, records: [new Uint8Array([1]), new Uint8Array([2])] }, 0);
    request(hop.next(0));
    hop.onResponse(putOk(5), 0);
    request(hop.next(0));
    expect(hop.onResponse(putCc(OemCompletion.SequenceGap, 2), 0)).toEqual([{ kind: 'resync', reason: 'gap' }]);
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-queue-info', queue: QueueId.ToManager });
    hop.onResponse(info(QueueId.ToManager), 0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToHost, { lastPutSeq: 2 }), 0);
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
    hop.offer({ messageId: 9, records: [new Uint8Array([1]), new Uint8Array([2])] }, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'put-record', seq: 3, record: new Uint8Array([1]) });
  });

  it('Put 0xC4 (full) holds writes for a jittered back-off, reads go on, and the same record goes again under the same seq', () => {
    const { hop } = synced({ lastPutSeq: 0 });
    hop.offer({ messageId: 1, records: [new Uint8Array([1])] }, 0);
    request(hop.next(0));
    expect(hop.onResponse(putCc(OemCompletion.QueueFull, 0), 0)).toEqual([{ kind: 'queue-full', retryAtMs: 100 }]);
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-record' });
    hop.onResponse(getEmpty(), 0);
    expect(hop.next(0)).toEqual({ kind: 'wait', untilMs: 50 });
    // Still blocked at 50: straight to the read.
    expect(request(hop.next(50))).toMatchObject({ kind: 'get-record' });
    hop.onResponse(getEmpty(), 50);
    expect(hop.next(50)).toEqual({ kind: 'wait', untilMs: 100 });
    expect(request(hop.next(100))).toMatchObject({ kind: 'put-record', seq: 1, record: new Uint8Array([1]) });
    expect(hop.onResponse(putOk(1), 100).map((e) => e.kind)).toEqual(['record-put', 'message-put']);
  });

  it('a Put answered with a last_put_seq not ours is a foreign producer: the message, sealed afresh, starts again after theirs', () => {
    const { hop } = synced({ lastPutSeq: 4 });
    hop.offer({ messageId: 2, records: [new Uint8Array([1]), new Uint8Array([2])] }, 0);
    request(hop.next(0));
    hop.onResponse(putOk(5), 0);
    request(hop.next(0));
    expect(hop.onResponse(putOk(9), 0)).toEqual([{ kind: 'foreign-producer', expectedSeq: 6, lastPutSeq: 9 }, { kind: 'resync', reason: 'foreign-producer' }]);
    // Not the same bytes again (ours may have been stored by an attempt whose answer was lost: a byte-for-byte copy reads as a replay).
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
    hop.offer({ messageId: 2, records: [new Uint8Array([3]), new Uint8Array([4])] }, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'put-record', seq: 10, record: new Uint8Array([3]) });
  });

  it('a sync that finds records this process never put (same epoch) is a foreign producer; its own unanswered Puts are not', () => {
    const { hop } = synced({ lastPutSeq: 4 });
    hop.offer({ messageId: 2, records: [new Uint8Array([1])] }, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'put-record', seq: 5 });
    // The answer never comes: the transport fails and the hop reconnects.
    hop.disconnected(0);
    hop.connected(10);
    request(hop.next(10));
    hop.onResponse(info(QueueId.ToManager), 10);
    request(hop.next(10));
    // Our Put of seq 5 did arrive after all: not foreign.
    expect(hop.onResponse(info(QueueId.ToHost, { lastPutSeq: 5 }), 10).map((e) => e.kind)).toEqual(['queues']);
    // While we were away someone put 6 and 7.
    hop.disconnected(20);
    hop.connected(30);
    request(hop.next(30));
    hop.onResponse(info(QueueId.ToManager), 30);
    request(hop.next(30));
    expect(hop.onResponse(info(QueueId.ToHost, { lastPutSeq: 7 }), 30)[0]).toEqual({ kind: 'foreign-producer', expectedSeq: 6, lastPutSeq: 7 });
    expect(hop.next(30)).toEqual({ kind: 'need-message' });
    hop.offer({ messageId: 3, records: [new Uint8Array([2])] }, 30);
    expect(request(hop.next(30))).toMatchObject({ kind: 'put-record', seq: 8 });
  });

  it('the first sync of a process, and the first under a new epoch, take last_put_seq as they find it', () => {
    const { events } = synced({ lastPutSeq: 40 });
    expect(events.map((e) => e.kind)).not.toContain('foreign-producer');
    const { hop } = synced({ lastPutSeq: 3, epoch: 7 });
    hop.disconnected(0);
    hop.connected(10);
    request(hop.next(10));
    hop.onResponse(info(QueueId.ToManager, { epoch: 9 }), 10);
    request(hop.next(10));
    expect(hop.onResponse(info(QueueId.ToHost, { lastPutSeq: 12, epoch: 9 }), 10).map((e) => e.kind)).not.toContain('foreign-producer');
  });

  it('a changed bmc_epoch at the periodic sync restarts the read cursor and says which queue was lost', () => {
    const { hop } = synced({ epoch: 7 });
    hop.offer(undefined, 0);
    request(hop.next(0));
    hop.onResponse(getRecord(3), 0);
    hop.consumed(3);
    request(hop.next(0));
    hop.onResponse(getEmpty(), 0);
    let now = 0;
    let step = hop.next(now);
    while (step.kind === 'wait' && step.untilMs < 10_000) {
      now = step.untilMs;
      step = hop.next(now);
      if (step.kind === 'need-message') {
        hop.offer(undefined, now);
        request(hop.next(now));
        hop.onResponse(getEmpty(), now);
        step = hop.next(now);
      }
    }
    expect(step).toEqual({ kind: 'wait', untilMs: 10_000 });
    expect(request(hop.next(10_000))).toMatchObject({ kind: 'get-queue-info', queue: QueueId.ToManager });
    hop.onResponse(info(QueueId.ToManager, { epoch: 8 }), 10_000);
    request(hop.next(10_000));
    const events = hop.onResponse(info(QueueId.ToHost, { epoch: 8 }), 10_000);
    expect(events.slice(0, 3)).toEqual([
      { kind: 'epoch-changed', queue: 'put', oldEpoch: 7, newEpoch: 8 },
      { kind: 'epoch-changed', queue: 'get', oldEpoch: 7, newEpoch: 8 },
      { kind: 'cursor', cursor: { putEpoch: 8, getEpoch: 8, commitSeq: 0 } },
    ]);
  });

  it('a restored cursor beyond the read queue is clamped to it; Get 0xCC resynchronises', () => {
    const hop = new QueueHop({ role: 'host', iana: IANA, random: () => 0.5 });
    hop.restore({ putEpoch: 7, getEpoch: 7, commitSeq: 50 });
    hop.connected(0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToHost, { lastPutSeq: 20 }), 0);
    request(hop.next(0));
    expect(hop.onResponse(info(QueueId.ToManager), 0)[0]).toEqual({ kind: 'cursor', cursor: { putEpoch: 7, getEpoch: 7, commitSeq: 20 } });
    hop.offer(undefined, 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-record', commitSeq: 20 });
    expect(hop.onResponse({ cc: OemCompletion.InvalidDataField, data: encodeOemErrorBody(IANA) }, 0)).toEqual([{ kind: 'resync', reason: 'bad-commit' }]);
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-queue-info' });
  });

  it('refuses answers it cannot go on from: another IANA, a completion code it does not handle, a malformed body', () => {
    const { hop } = synced();
    hop.offer({ messageId: 1, records: [new Uint8Array([1])] }, 0);
    request(hop.next(0));
    expect(() => hop.onResponse({ cc: 0, data: encodePutRecordResponse({ iana: 343, lastPutSeq: 1 }) }, 0)).toThrow(expect.objectContaining({ code: 'ERR_IANA' }));
    hop.disconnected(0);
    hop.connected(0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToManager), 0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToHost), 0);
    hop.offer({ messageId: 1, records: [new Uint8Array([1])] }, 0);
    request(hop.next(0));
    const fenced = (() => {
      try {
        hop.onResponse({ cc: OemCompletion.Fenced, data: encodeOemErrorBody(IANA) }, 0);
      } catch (err) {
        return err as QueueHopError;
      }
      return undefined;
    })();
    expect(fenced).toBeInstanceOf(QueueHopError);
    expect(fenced).toMatchObject({ code: 'ERR_COMPLETION', cc: OemCompletion.Fenced });
    hop.disconnected(0);
    hop.connected(0);
    request(hop.next(0));
    expect(() => hop.onResponse({ cc: 0, data: new Uint8Array(5) }, 0)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED' }));
  });

  it('asks for nothing while a request is outstanding or before it is connected', () => {
    const hop = new QueueHop({ role: 'manager', iana: IANA, random: () => 0.5 });
    expect(() => hop.next(0)).toThrow(expect.objectContaining({ code: 'ERR_STATE' }));
    hop.connected(0);
    hop.next(0);
    expect(() => hop.next(0)).toThrow(expect.objectContaining({ code: 'ERR_STATE' }));
  });

  it('refuses a record larger than the queues take', () => {
    const { hop } = synced();
    expect(() => hop.offer({ messageId: 1, records: [new Uint8Array(201)] }, 0)).toThrow(RangeError);
  });

  it('reconnects on a jittered doubling back-off that a successful sync resets', () => {
    let r = 0.999;
    const hop = new QueueHop({ role: 'manager', iana: IANA, random: () => r, tuning: TUNING });
    expect([hop.disconnected(0), hop.disconnected(0), hop.disconnected(0), hop.disconnected(0), hop.disconnected(0)]).toEqual([499, 999, 1998, 3996, 3996]);
    r = 0;
    expect(hop.disconnected(0)).toBe(250);
    r = 0.999;
    hop.connected(0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToManager), 0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToHost), 0);
    expect(hop.disconnected(0)).toBe(499);
  });
});

describe('QueueHop turns', () => {
  it('a turn that put messagesPerTurn messages starts the next at once (more may be waiting)', () => {
    const hop = new QueueHop({ role: 'host', iana: IANA, random: () => 0.5, tuning: { ...TUNING, messagesPerTurn: 1 } });
    hop.connected(0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToHost), 0);
    request(hop.next(0));
    hop.onResponse(info(QueueId.ToManager), 0);
    hop.offer({ messageId: 1, records: [new Uint8Array([1])] }, 0);
    request(hop.next(0));
    hop.onResponse(putOk(1), 0);
    expect(request(hop.next(0))).toMatchObject({ kind: 'get-record' });
    hop.onResponse(getEmpty(), 0);
    expect(hop.next(0)).toEqual({ kind: 'need-message' });
  });
});
