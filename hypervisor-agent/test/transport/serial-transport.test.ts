import { createServer, type Socket } from 'node:net';
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  decodeTunnelMessage,
  encodeOemRequest,
  encodeSerialFrame,
  encodeTunnelMessage,
  OEM_NETFN,
  OemCommand,
  SerialFrameDecoder,
  utf8,
} from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { SerialQueues } from '../../src/transport/serial-queues.js';
import { parseSerialLink } from '../../src/transport/serial-target.js';
import { SerialTransport } from '../../src/transport/serial-transport.js';

const IANA = 32473;
let counter = 1;
const random = (n: number) => Uint8Array.from({ length: n }, () => counter++ & 0xff);
const put = (queue: number, seq: number, record: Uint8Array) => encodeOemRequest({ kind: 'put-record', iana: IANA, queue, seq, record });
const get = (queue: number, commitSeq: number) => encodeOemRequest({ kind: 'get-record', iana: IANA, queue, commitSeq });
const info = (queue: number) => encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue });

describe('SerialQueues (PROTOCOL.md §2 semantics, held on the host)', () => {
  it('manager puts on queue 1, host reads it with commit; puts are idempotent by seq; gaps are 0x80', () => {
    let bells = 0;
    const q = new SerialQueues({ randomBytes: random, onToHost: () => bells++ });
    expect(q.handle('manager', OEM_NETFN, OemCommand.PutRecord, put(1, 1, utf8('a'))).cc).toBe(0);
    expect(decodePutRecordResponse(q.handle('manager', OEM_NETFN, OemCommand.PutRecord, put(1, 1, utf8('a'))).data).lastPutSeq).toBe(1);
    expect(q.handle('manager', OEM_NETFN, OemCommand.PutRecord, put(1, 3, utf8('c'))).cc).toBe(0x80);
    expect(bells).toBe(1);
    const r = decodeGetRecordResponse(q.handle('host', OEM_NETFN, OemCommand.GetRecord, get(1, 0)).data);
    expect(r).toMatchObject({ seq: 1, depth: 1 });
    expect(decodeGetRecordResponse(q.handle('host', OEM_NETFN, OemCommand.GetRecord, get(1, 1)).data)).toMatchObject({ seq: 0, depth: 0, committedSeq: 1 });
    expect(q.handle('host', OEM_NETFN, OemCommand.GetRecord, get(1, 5)).cc).toBe(0xcc);
  });

  it('wrong side 0xD4, reset refused, unknown queue 0xCC, bad length 0xC7, other netfn 0xC1, full 0xC4', () => {
    const q = new SerialQueues({ randomBytes: random, capacityBytes: 4 });
    expect(q.handle('manager', OEM_NETFN, OemCommand.PutRecord, put(2, 1, utf8('x'))).cc).toBe(0xd4);
    expect(q.handle('host', OEM_NETFN, OemCommand.GetRecord, get(2, 0)).cc).toBe(0xd4);
    expect(q.handle('manager', OEM_NETFN, OemCommand.ResetQueue, encodeOemRequest({ kind: 'reset-queue', iana: IANA, queue: 1 })).cc).toBe(0xd4);
    expect(q.handle('manager', OEM_NETFN, OemCommand.GetQueueInfo, info(3)).cc).toBe(0xcc);
    expect(q.handle('manager', OEM_NETFN, OemCommand.GetQueueInfo, Uint8Array.of(1)).cc).toBe(0xc7);
    expect(q.handle('manager', 0x06, 0x01, new Uint8Array()).cc).toBe(0xc1);
    expect(q.handle('host', OEM_NETFN, OemCommand.PutRecord, put(2, 1, utf8('hello'))).cc).toBe(0xc4);
    const i = decodeQueueInfoResponse(q.handle('manager', OEM_NETFN, OemCommand.GetQueueInfo, info(2)).data);
    expect(i.bmcEpoch).not.toBe(0);
    expect(i.maxRecord).toBe(200);
  });
});

describe('serial link specs', () => {
  it('parses serial, tcp and unix; refuses the rest', () => {
    expect(parseSerialLink('serial:/dev/ttyS1@115200')).toEqual({ kind: 'serial', path: '/dev/ttyS1', baud: 115200 });
    expect(parseSerialLink('serial:/dev/ttyS1')).toEqual({ kind: 'serial', path: '/dev/ttyS1', baud: 115200 });
    expect(parseSerialLink('tcp:127.0.0.1:4000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4000 });
    expect(parseSerialLink('unix:/run/x.sock')).toEqual({ kind: 'unix', path: '/run/x.sock' });
    expect(() => parseSerialLink('serial:/dev/ttyS1@1234')).toThrow(/baud/);
    expect(() => parseSerialLink('tcp:host')).toThrow(/tcp:HOST:PORT/);
  });
});

describe('SerialTransport over a socket standing in for the line', () => {
  it('answers tunnel requests through garbage and a reconnect; local requests are served in process', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const t = await SerialTransport.open({ kind: 'tcp', host: '127.0.0.1', port }, { reconnectMs: 20, randomBytes: random });
    try {
      let bell = 0;
      t.onAttention(() => bell++);
      const ask = async (s: Socket, id: number, data: Uint8Array, noise: Uint8Array = new Uint8Array()) => {
        const dec = new SerialFrameDecoder();
        const got = new Promise<ReturnType<typeof decodeTunnelMessage>>((resolve) =>
          s.on('data', (b) => {
            for (const f of dec.push(new Uint8Array(b))) resolve(decodeTunnelMessage(f));
          }),
        );
        s.write(noise);
        s.write(encodeSerialFrame(encodeTunnelMessage({ kind: 'request', id, netfn: OEM_NETFN, cmd: OemCommand.PutRecord, data })));
        const m = await got;
        s.removeAllListeners('data');
        return m;
      };
      while (sockets.length < 1) await new Promise((r) => setTimeout(r, 5));
      const r1 = await ask(sockets[0]!, 7, put(1, 1, utf8('rec1')), utf8('login: \r\n[ 1.0] kernel noise\x00\x05garbage'));
      expect(r1).toMatchObject({ kind: 'response', id: 7, cc: 0 });
      await new Promise((r) => setTimeout(r, 10));
      expect(bell).toBe(1);
      sockets[0]!.destroy();
      while (sockets.length < 2) await new Promise((r) => setTimeout(r, 5));
      expect((await ask(sockets[1]!, 8, put(1, 2, utf8('rec2')))).kind).toBe('response');
      const local = await t.request(OEM_NETFN, OemCommand.GetRecord, get(1, 1));
      expect(decodeGetRecordResponse(local.data)).toMatchObject({ seq: 2, record: utf8('rec2') });
      expect(t.stats.reconnects).toBe(1);
      expect(t.stats.dropped).toBeGreaterThan(0);
    } finally {
      await t.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
