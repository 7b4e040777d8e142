/**
 * What VmSession hands its transport, write by write: "clear ATN" travels in
 * the same write as the response to the request that cleared it (one wake-up
 * of the host instead of two), and never behind anything else.
 */
import { randomBytes } from 'node:crypto';
import { encodeVmRequestFrame, QueueId, VmFrameDecoder } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { QueueEngine } from '../../src/queues/queue-engine.js';
import { HostInterfaceState } from '../../src/system-interface/host-interface-state.js';
import { emptyVmStats, VmSession } from '../../src/system-interface/vm-session.js';
import { queueRequestBytes } from './harness.js';

const IANA = 32473;

function setup() {
  const engine = new QueueEngine({ iana: IANA, randomBytes: (n) => new Uint8Array(randomBytes(n)) });
  const writes: Uint8Array[] = [];
  const session = new VmSession({
    // Answers at once: the order of writes is what is under test, not the command table.
    dispatch: async (_ctx, req) => (req.netfn === 0x06 ? { cc: 0, data: Uint8Array.of(0x20) } : { cc: 0, data: new Uint8Array() }),
    state: new HostInterfaceState(engine),
    write: (bytes) => writes.push(bytes),
    stats: emptyVmStats(),
  });
  const put = (seq: number) => engine.handle(0x01, 'lan', 4, queueRequestBytes({ kind: 'put-record', queue: QueueId.ToHost, seq, record: Uint8Array.of(seq) }).data);
  /** The frames in one write, as the host's decoder sees them. */
  const framesOf = (bytes: Uint8Array) => new VmFrameDecoder().push(bytes).map((e) => (e.kind === 'control' ? `ctl:${e.payload[0]}` : e.kind));
  return { session, writes, put, framesOf };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('VmSession writes', () => {
  it('sends clear ATN in the same write as the response to the Get Message Flags that cleared it', async () => {
    const { session, writes, put, framesOf } = setup();
    session.start();
    expect(put(1).cc).toBe(0);
    session.ringDoorbell();
    expect(writes.map(framesOf)).toEqual([['ctl:255'], ['ctl:1']]); // version, then set ATN
    session.receive(encodeVmRequestFrame({ seq: 7, netfn: 0x06, lun: 0, cmd: 0x31, data: new Uint8Array() }));
    await settle();
    expect(writes.map(framesOf)).toEqual([['ctl:255'], ['ctl:1'], ['ctl:0', 'message']]);
  });

  it('sends a pending clear ATN ahead of a set ATN that comes before the response', async () => {
    const { session, writes, put, framesOf } = setup();
    expect(put(1).cc).toBe(0);
    session.ringDoorbell();
    // Get Record on queue 1 clears ATN; a new record lands before its response is written.
    session.receive(encodeVmRequestFrame({ seq: 8, netfn: 0x2e, lun: 0, cmd: 0x02, data: queueRequestBytes({ kind: 'get-record', queue: QueueId.ToHost, commitSeq: 0 }).data }));
    expect(put(2).cc).toBe(0);
    session.ringDoorbell();
    await settle();
    expect(writes.map(framesOf)).toEqual([['ctl:1'], ['ctl:0', 'ctl:1'], ['message']]);
  });
});
