import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SolEndpoint, SolOperation, type SolPacket, toHex, utf8 } from '../../src/index.js';

const opts = { maxData: 8, retryIntervalMs: 100, retryCount: 3 };

describe('SolEndpoint (fake clock)', () => {
  it('sends, is acknowledged, sends the next packet', () => {
    const a = new SolEndpoint(opts);
    a.write(utf8('hello world!'));
    const [p1] = a.poll(0);
    expect(p1).toMatchObject({ seq: 1, ackSeq: 0 });
    expect(p1!.data.length).toBe(8);
    expect(a.poll(50)).toEqual([]); // one outstanding at a time
    const r = a.receive({ seq: 0, ackSeq: 1, acceptedCount: 8, flags: 0, data: new Uint8Array() }, 60);
    expect(r.send).toHaveLength(1);
    expect(r.send[0]).toMatchObject({ seq: 2 });
    expect(new TextDecoder().decode(r.send[0]!.data)).toBe('rld!');
  });

  it('resends after the retry interval, up to the retry count, then counts the packet lost', () => {
    const a = new SolEndpoint(opts);
    a.write(utf8('x'));
    expect(a.poll(0)[0]!.seq).toBe(1);
    for (let t = 100; t <= 300; t += 100) expect(a.poll(t)[0]).toMatchObject({ seq: 1 });
    expect(a.resent).toBe(3);
    expect(a.poll(400)).toEqual([]);
    expect(a.lost).toBe(1);
    expect(a.idle).toBe(true);
  });

  it('a partly accepted packet: the rest is sent again first', () => {
    const a = new SolEndpoint(opts);
    a.write(utf8('abcdefgh'));
    a.poll(0);
    const r = a.receive({ seq: 0, ackSeq: 1, acceptedCount: 3, flags: 0, data: new Uint8Array() }, 1);
    expect(new TextDecoder().decode(r.send[0]!.data)).toBe('defgh');
  });

  it('a NACK holds the rest until the retry interval', () => {
    const a = new SolEndpoint(opts);
    a.write(utf8('abcdefgh'));
    a.poll(0);
    const r = a.receive({ seq: 0, ackSeq: 1, acceptedCount: 0, flags: SolOperation.NACK, data: new Uint8Array() }, 1);
    expect(r.send).toEqual([]);
    expect(new TextDecoder().decode(a.poll(2)[0]!.data)).toBe('abcdefgh');
  });

  it('acknowledges received data; a duplicate is acknowledged again but not delivered', () => {
    const b = new SolEndpoint(opts);
    const p: SolPacket = { seq: 4, ackSeq: 0, acceptedCount: 0, flags: 0, data: utf8('abc') };
    const r1 = b.receive(p, 0);
    expect(toHex(r1.data!)).toBe(toHex(utf8('abc')));
    expect(r1.send).toEqual([{ seq: 0, ackSeq: 4, acceptedCount: 3, flags: 0, data: new Uint8Array() }]);
    const r2 = b.receive(p, 1);
    expect(r2.data).toBeUndefined();
    expect(r2.send[0]).toMatchObject({ ackSeq: 4, acceptedCount: 3 });
  });

  it('piggybacks the ack on waiting data', () => {
    const b = new SolEndpoint(opts);
    b.write(utf8('out'));
    const r = b.receive({ seq: 1, ackSeq: 0, acceptedCount: 0, flags: 0, data: utf8('in') }, 0);
    expect(r.send).toEqual([{ seq: 1, ackSeq: 1, acceptedCount: 2, flags: 0, data: utf8('out') }]);
  });

  it('a break pulse goes out once, as a packet of its own', () => {
    const a = new SolEndpoint(opts);
    a.pulse(SolOperation.GENERATE_BREAK);
    const [p] = a.poll(0);
    expect(p).toMatchObject({ seq: 1, flags: SolOperation.GENERATE_BREAK, data: new Uint8Array() });
    a.receive({ seq: 0, ackSeq: 1, acceptedCount: 0, flags: 0, data: new Uint8Array() }, 1);
    expect(a.poll(2)).toEqual([]);
  });

  it('two endpoints over a lossy link deliver the bytes in order, each once', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }), (bytes, lossPattern) => {
        const o = { maxData: 16, retryIntervalMs: 10, retryCount: 1000 };
        const a = new SolEndpoint(o);
        const b = new SolEndpoint(o);
        a.write(bytes);
        const got: number[] = [];
        let k = 0;
        const lost = () => lossPattern[k++ % lossPattern.length]! && k % 3 !== 0;
        const toB: SolPacket[] = [];
        let toA: SolPacket[] = [];
        for (let now = 0; now < 100_000 && got.length < bytes.length; now += 5) {
          toB.push(...a.poll(now));
          for (const p of toB.splice(0)) {
            if (lost()) continue;
            const r = b.receive(p, now);
            if (r.data) got.push(...r.data);
            toA.push(...r.send);
          }
          for (const p of toA.splice(0)) {
            if (lost()) continue;
            toB.push(...a.receive(p, now).send);
          }
          toA = [];
        }
        expect(toHex(Uint8Array.from(got))).toBe(toHex(bytes));
      }),
    );
  });
});
