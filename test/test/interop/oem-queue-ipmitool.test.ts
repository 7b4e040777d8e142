/**
 * Acceptance (issue 4): the OEM buffer queues of the real bmc-oem daemon,
 * driven on the LAN side by stock `ipmitool -I lanplus -C 17 raw 0x2e ...`
 * only, and read on the system side over the VM protocol.
 */
import { connect, type Socket } from 'node:net';
import {
  decodeGetRecordResponse,
  decodeQueueInfoResponse,
  decodeResetQueueResponse,
  decodeVmControlPayload,
  decodeVmResponsePayload,
  encodeOemRequest,
  encodeVmRequestFrame,
  toHex,
  type VmResponse,
  VmFrameDecoder,
} from '@backchannel/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmitool, ipmitoolAvailable, parseRawOutput, type IpmitoolTarget } from '../../src/harness/ipmitool.js';
import { type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

const hasIpmitool = ipmitoolAvailable();
const IANA = ['0xd9', '0x7e', '0x00'];
const hex = (bytes: number[]) => bytes.map((b) => `0x${b.toString(16).padStart(2, '0')}`);
const u32 = (n: number) => hex([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);

/** A minimal VM-protocol host: seq-matched requests, ATN recorded. */
class VmHost {
  readonly controls: string[] = [];
  readonly #decoder = new VmFrameDecoder();
  readonly #pending = new Map<number, (r: VmResponse) => void>();
  #seq = 0;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.#decoder.push(new Uint8Array(chunk))) {
        if (e.kind === 'control') this.controls.push(decodeVmControlPayload(e.payload).kind);
        if (e.kind === 'message') {
          const r = decodeVmResponsePayload(e.payload);
          this.#pending.get(r.seq)?.(r);
          this.#pending.delete(r.seq);
        }
      }
    });
  }
  static open(port: number): Promise<VmHost> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new VmHost(s)));
      s.once('error', reject);
    });
  }
  request(netfn: number, cmd: number, data: Uint8Array): Promise<VmResponse> {
    const seq = this.#seq++ & 0xff;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('VM request timed out')), 5000);
      this.#pending.set(seq, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.socket.write(encodeVmRequestFrame({ seq, netfn, lun: 0, cmd, data }));
    });
  }
  getRecord(commitSeq: number) {
    return this.request(0x2e, 0x02, encodeOemRequest({ kind: 'get-record', iana: 32473, queue: 1, commitSeq }));
  }
}

describe.skipIf(!hasIpmitool)('OEM queues with stock ipmitool -C 17 raw (skipped only if the ipmitool binary is absent)', () => {
  let bmc: BmcOemInstance;
  let vmPort: number;

  beforeAll(async () => {
    bmc = await startBmcOem(
      [
        { name: 'oper', privilege: 'operator', password: 'oper-secret' },
        { name: 'admin', privilege: 'administrator', password: 'admin-secret' },
      ],
      ['--vm-listen', 'tcp:127.0.0.1:0', '--queue-capacity', '600', '--max-record', '200'],
    );
    const m = await bmc.proc.waitFor(/"vm":\["tcp:127\.0\.0\.1:(\d+)"\]/, 2000);
    vmPort = Number(m[1]);
  });

  afterAll(async () => {
    expect(await bmc?.stop()).toBe(0);
  });

  const as = (user: 'oper' | 'admin'): IpmitoolTarget => ({
    port: bmc.port,
    user,
    passwordFile: bmc.passwordFile(user),
    cipherSuite: 17,
    privilege: user === 'admin' ? 'ADMINISTRATOR' : 'OPERATOR',
  });
  const raw = (user: 'oper' | 'admin', cmd: number, args: string[]) => {
    const r = ipmitool(as(user), ['raw', '0x2e', `0x${cmd.toString(16).padStart(2, '0')}`, ...IANA, ...args]);
    const cc = r.status === 0 ? 0 : Number.parseInt(/rsp=0x([0-9a-f]+)/i.exec(r.stderr)?.[1] ?? 'ff', 16);
    return { cc, bytes: Uint8Array.from(parseRawOutput(r.stdout)), stderr: r.stderr };
  };
  const info = (queue: number) => {
    const r = raw('oper', 0x00, [hex([queue])[0] as string]);
    expect(r.cc).toBe(0);
    return decodeQueueInfoResponse(r.bytes);
  };
  const putRecord = (seq: number, record: number[]) => raw('oper', 0x01, ['0x01', ...u32(seq), ...hex(record)]);

  it('Put Record seq 1 and 2; a retransmitted seq 2 does not duplicate; seq 5 gives 0x80', () => {
    expect(putRecord(1, [0xde, 0xad]).cc).toBe(0);
    const second = putRecord(2, [0xbe, 0xef]);
    expect(second.cc).toBe(0);
    expect(toHex(second.bytes)).toBe('d97e00' + '02000000');
    expect(putRecord(2, [0xbe, 0xef]).cc).toBe(0);
    expect(info(1)).toMatchObject({ iana: 32473, queue: 1, depth: 2, usedBytes: 4, lastPutSeq: 2, committedSeq: 0, capacityBytes: 600, maxRecord: 200 });
    expect(putRecord(5, [0x55]).cc).toBe(0x80);
    expect(info(1).depth).toBe(2);
  });

  it('Get Record on queue 1 from the LAN gives 0xD4', () => {
    expect(raw('oper', 0x02, ['0x01', ...u32(0)]).cc).toBe(0xd4);
    expect(raw('admin', 0x02, ['0x01', ...u32(0)]).cc).toBe(0xd4);
  });

  it('the host reads what ipmitool put, in order, over the VM protocol, releasing only on commit', async () => {
    const host = await VmHost.open(vmPort);
    try {
      const first = await host.getRecord(0);
      expect(first.cc).toBe(0);
      expect(decodeGetRecordResponse(first.data)).toMatchObject({ seq: 1, depth: 2, record: Uint8Array.of(0xde, 0xad) });
      expect(info(1).depth).toBe(2); // read, not released
      const second = decodeGetRecordResponse((await host.getRecord(1)).data);
      expect(second).toMatchObject({ seq: 2, depth: 1, committedSeq: 1, record: Uint8Array.of(0xbe, 0xef) });
      expect(info(1)).toMatchObject({ depth: 1, committedSeq: 1 });
      expect(decodeGetRecordResponse((await host.getRecord(2)).data)).toMatchObject({ seq: 0, depth: 0 });
      // A new put from ipmitool rings the doorbell; the host's Get Message Flags clears it.
      expect(putRecord(3, [0x33]).cc).toBe(0);
      for (let i = 0; i < 50 && !host.controls.includes('attn') && !host.controls.includes('attn-irq'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(host.controls.filter((c) => c.startsWith('attn'))).toHaveLength(1);
      const flags = await host.request(0x06, 0x31, new Uint8Array());
      expect(flags.data).toEqual(Uint8Array.of(0x20));
      expect(host.controls.at(-1)).toBe('no-attn');
      expect(decodeGetRecordResponse((await host.getRecord(2)).data)).toMatchObject({ seq: 3, record: Uint8Array.of(0x33) });
      await host.getRecord(3);
    } finally {
      host.socket.destroy();
    }
  });

  it('filling a small queue gives 0xC4', () => {
    // --queue-capacity 600 and the queue is empty (seq 1–3 committed): three 200-byte records fill it exactly.
    const big = new Array<number>(200).fill(0x77);
    expect(putRecord(4, big).cc).toBe(0);
    expect(putRecord(5, big).cc).toBe(0);
    expect(putRecord(6, big).cc).toBe(0);
    const full = putRecord(7, big);
    expect(full.cc).toBe(0xc4);
    expect(info(1)).toMatchObject({ depth: 3, usedBytes: 600, lastPutSeq: 6 });
  });

  it('an OPERATOR cannot Reset Queue; an ADMINISTRATOR can, and the epoch changes', () => {
    const before = info(1).bmcEpoch;
    expect(raw('oper', 0x03, ['0x01']).cc).toBe(0xd4);
    expect(info(1).bmcEpoch).toBe(before);
    const r = raw('admin', 0x03, ['0x01']);
    expect(r.cc).toBe(0);
    const epoch = decodeResetQueueResponse(r.bytes).bmcEpoch;
    expect(epoch).not.toBe(before);
    expect(epoch).not.toBe(0);
    expect(info(1)).toMatchObject({ bmcEpoch: epoch, depth: 0, usedBytes: 0, lastPutSeq: 0, committedSeq: 0 });
  });
});
