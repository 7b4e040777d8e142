import { decodeGetRecordResponse, decodeQueueInfoResponse, toHex } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { queueRequestBytes } from './harness.js';
import { useVmSession } from './helpers/vm-session.js';
import type { VmTestClient } from './vm-test-client.js';

const { start, client } = useVmSession();

async function getRecord(c: VmTestClient, queue: number, commitSeq: number) {
  const { cmd, data } = queueRequestBytes({ kind: 'get-record', queue, commitSeq });
  const r = await c.request(0x2e, cmd, data);
  expect(r.netfn).toBe(0x2f);
  return { cc: r.cc, rsp: r.cc === 0 ? decodeGetRecordResponse(r.data) : undefined };
}

describe('VM protocol: queues through the system interface', () => {
  it('Get Record with commit returns the records put on the LAN side, in order, releasing them only on commit', async () => {
    const h = await start();
    for (let seq = 1; seq <= 3; seq++) expect((await h.lan({ kind: 'put-record', queue: 1, seq, record: Uint8Array.of(0x10 + seq, seq) })).cc).toBe(0);
    const c = await client(h.port);
    const seen: string[] = [];
    let commit = 0;
    for (;;) {
      const { rsp } = await getRecord(c, 1, commit);
      if (rsp === undefined || rsp.seq === 0) break;
      // Reading again without committing returns the same record: nothing is released yet.
      expect((await getRecord(c, 1, commit)).rsp).toEqual(rsp);
      expect(h.engine.depth(1)).toBe(3 - commit);
      seen.push(toHex(rsp.record));
      commit = rsp.seq;
    }
    expect(seen).toEqual(['1101', '1202', '1303']);
    expect(h.engine.depth(1)).toBe(0);
    expect(h.engine.snapshot(1)?.committedSeq).toBe(3);
  });

  it('a response lost mid-read (connection cut) loses nothing: the reader repeats its commit and gets the next record', async () => {
    const h = await start();
    for (const [seq, b] of [[1, 0xaa], [2, 0xbb], [3, 0xcc]] as const) await h.lan({ kind: 'put-record', queue: 1, seq, record: Uint8Array.of(b) });
    const c1 = await client(h.port);
    expect((await getRecord(c1, 1, 0)).rsp).toMatchObject({ seq: 1, record: Uint8Array.of(0xaa) });
    // Commit 1 and cut the connection before the response (carrying record 2) can be read.
    const { cmd, data } = queueRequestBytes({ kind: 'get-record', queue: 1, commitSeq: 1 });
    const lost = c1.request(0x2e, cmd, data, 300).catch((e: Error) => e);
    c1.destroy();
    expect(await lost).toBeInstanceOf(Error);
    await c1.closed;
    await new Promise((r) => setTimeout(r, 50));
    const c2 = await client(h.port);
    // The reader repeats with the same commit_seq: record 2 is still there, whether or not the commit landed.
    expect((await getRecord(c2, 1, 1)).rsp).toMatchObject({ seq: 2, depth: 2, committedSeq: 1, record: Uint8Array.of(0xbb) });
    expect((await getRecord(c2, 1, 2)).rsp).toMatchObject({ seq: 3, depth: 1, record: Uint8Array.of(0xcc) });
    expect((await getRecord(c2, 1, 3)).rsp).toMatchObject({ seq: 0, depth: 0 });
  });

  it('the system side may Put on queue 2 and Get Queue Info, but not Put on queue 1 or Reset', async () => {
    const h = await start();
    const c = await client(h.port);
    const put2 = queueRequestBytes({ kind: 'put-record', queue: 2, seq: 1, record: Uint8Array.of(1, 2, 3) });
    expect((await c.request(0x2e, put2.cmd, put2.data)).cc).toBe(0);
    const put1 = queueRequestBytes({ kind: 'put-record', queue: 1, seq: 1, record: Uint8Array.of(1) });
    expect((await c.request(0x2e, put1.cmd, put1.data)).cc).toBe(0xd4);
    const rst = queueRequestBytes({ kind: 'reset-queue', queue: 2 });
    expect((await c.request(0x2e, rst.cmd, rst.data)).cc).toBe(0xd4);
    const info = queueRequestBytes({ kind: 'get-queue-info', queue: 2 });
    const r = await c.request(0x2e, info.cmd, info.data);
    expect(decodeQueueInfoResponse(r.data)).toMatchObject({ depth: 1, lastPutSeq: 1, usedBytes: 3 });
    // And the LAN side reads it.
    const lanGet = await h.lan({ kind: 'get-record', queue: 2, commitSeq: 0 });
    expect(decodeGetRecordResponse(lanGet.data)).toMatchObject({ seq: 1, record: Uint8Array.of(1, 2, 3) });
    expect((await h.lan({ kind: 'get-record', queue: 1, commitSeq: 0 })).cc).toBe(0xd4);
  });

  it('a wrong IANA on the system side is 0xCC with the IANA echoed', async () => {
    const h = await start();
    const c = await client(h.port);
    const r = await c.request(0x2e, 0x00, Uint8Array.of(0x01, 0x02, 0x03, 0x01));
    expect(r.cc).toBe(0xcc);
  });
});
