import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  decodeVmRequestPayload,
  encodeVmControlFrame,
  encodeVmRequestFrame,
  fromHex,
  toHex,
  type VmFrameEvent,
  VmFrameDecoder,
} from '../../src/index.js';

function frames(events: VmFrameEvent[]): string[] {
  return events.map((e) => (e.kind === 'discarded' ? `discarded:${e.reason}` : `${e.kind}:${toHex(e.payload)}`));
}

describe('VmFrameDecoder', () => {
  const req = { seq: 0xaa, netfn: 0x2e, lun: 0, cmd: 0x02, data: fromHex('d97e0001a0a1aa00') };
  const wire = concatBytes([encodeVmControlFrame({ kind: 'version', version: 1 }), encodeVmRequestFrame(req), encodeVmControlFrame({ kind: 'attn' })]);

  it('decodes frames split at every possible byte boundary', () => {
    const whole = frames(new VmFrameDecoder().push(wire));
    expect(whole).toHaveLength(3);
    for (let cut = 1; cut < wire.length; cut++) {
      const d = new VmFrameDecoder();
      const got = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(frames(got)).toEqual(whole);
    }
    const msg = new VmFrameDecoder().push(wire)[1];
    expect(msg?.kind).toBe('message');
    expect(decodeVmRequestPayload((msg as { payload: Uint8Array }).payload)).toEqual(req);
  });

  it('decodes byte by byte', () => {
    const d = new VmFrameDecoder();
    const got: VmFrameEvent[] = [];
    for (const b of wire) got.push(...d.push(Uint8Array.of(b)));
    expect(frames(got)).toEqual(frames(new VmFrameDecoder().push(wire)));
    expect(d.pendingBytes).toBe(0);
  });

  it('resynchronises after garbage: leading junk becomes a bad frame, the next frame is intact', () => {
    const junk = fromHex('1234567890');
    const d = new VmFrameDecoder();
    const events = d.push(concatBytes([junk, fromHex('a1'), encodeVmRequestFrame(req)]));
    // The junk ends at A1 and is handed up as a control payload the caller will reject.
    expect(frames(events)).toEqual([`control:${toHex(junk)}`, `message:${toHex(new VmFrameDecoder().push(encodeVmRequestFrame(req)).map((e) => (e as { payload: Uint8Array }).payload)[0] as Uint8Array)}`]);
  });

  it('drops a frame that ends inside an escape, and ignores empty frames', () => {
    expect(frames(new VmFrameDecoder().push(fromHex('0102aaa0a0a1')))).toEqual(['discarded:escape-at-end']);
  });

  it('discards an overlong frame whole and keeps the next one', () => {
    const d = new VmFrameDecoder({ maxFrameBytes: 16 });
    const events = d.push(concatBytes([new Uint8Array(40).fill(0x11), fromHex('a0'), encodeVmControlFrame({ kind: 'attn' })]));
    expect(frames(events)).toEqual(['discarded:too-long', 'control:01']);
    expect(events[0]).toMatchObject({ bytes: 40 });
  });

  it('never throws and never holds more than maxFrameBytes on random input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }), (chunks) => {
        const d = new VmFrameDecoder({ maxFrameBytes: 64 });
        for (const c of chunks) {
          for (const e of d.push(c)) if (e.kind !== 'discarded') expect(e.payload.length).toBeLessThanOrEqual(64);
          expect(d.pendingBytes).toBeLessThanOrEqual(64);
        }
      }),
    );
  });
});
