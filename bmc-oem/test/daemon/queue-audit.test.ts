import { encodeOemRequest, QueueId } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/commands/command-types.js';
import { QueueAudit } from '../../src/daemon/queue-audit.js';

const IANA = 32473;
function ctx(id: number, user: string): CommandContext {
  return { channel: 'lan', privilege: 3, lun: 0, session: { id, handle: id, userId: 2, userName: user, maxPrivilege: 3, setPrivilege: () => undefined, closeAfterResponse: () => undefined } };
}
const putReq = (seq: number, byte: number) => ({ netfn: 0x2e, cmd: 0x01, data: encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToHost, seq, record: Uint8Array.of(byte) }) });
const ok = { cc: 0, data: new Uint8Array(), name: 'oem-put-record' };

describe('queue audit (foreign producer on queue 1)', () => {
  it('flags a seq put again with different bytes from another source or user; never the producer\'s own repeats', () => {
    const peers: Record<number, string> = { 1: '192.0.2.10:5000', 2: '192.0.2.10:5001', 3: '192.0.2.66:7000' };
    const hits: string[] = [];
    const audit = new QueueAudit(IANA, (id) => peers[id], (q, seq, peer, user) => hits.push(`${q}:${seq}:${peer}:${user}`));
    audit.observe(ctx(1, 'vms'), putReq(1, 0xaa), ok);
    audit.observe(ctx(1, 'vms'), putReq(1, 0xaa), ok); // a retransmission
    audit.observe(ctx(2, 'vms'), putReq(1, 0xbb), ok); // same source and user (a late datagram after a reconnect)
    expect(hits).toEqual([]);
    audit.observe(ctx(3, 'vms'), putReq(1, 0xcc), ok); // another host with the same account
    audit.observe(ctx(1, 'intruder'), putReq(1, 0xdd), ok); // the same host, another account
    expect(hits).toEqual(['1:1:192.0.2.66:7000:vms', '1:1:192.0.2.10:5000:intruder']);
    // A Reset Queue starts the seqs over: nothing to compare with any more.
    audit.observe(ctx(1, 'vms'), { netfn: 0x2e, cmd: 0x03, data: encodeOemRequest({ kind: 'reset-queue', iana: IANA, queue: QueueId.ToHost }) }, ok);
    audit.observe(ctx(3, 'other'), putReq(1, 0xee), ok);
    expect(hits).toHaveLength(2);
  });
});
