import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SequenceWindow } from '../../src/rmcp/sequence-window.js';

function accept(w: SequenceWindow, seq: number): string {
  const v = w.check(seq);
  if (v === 'ok') w.commit(seq);
  return v;
}

describe('SequenceWindow (IPMI v2.0 §6.12.13, 32 wide)', () => {
  it('accepts an in-order stream starting at 1 and refuses zero', () => {
    const w = new SequenceWindow();
    expect(w.check(0)).toBe('zero');
    for (let s = 1; s <= 100; s++) expect(accept(w, s)).toBe('ok');
    expect(w.highest).toBe(100);
  });

  it('drops a replay of any number still in the window and of the newest one', () => {
    const w = new SequenceWindow();
    for (let s = 1; s <= 20; s++) accept(w, s);
    expect(w.check(20)).toBe('duplicate');
    expect(w.check(10)).toBe('duplicate');
    expect(w.check(5)).toBe('duplicate'); // 15 behind 20: the oldest number still remembered
    expect(w.check(4)).toBe('too-old'); // 16 behind: outside the window
  });

  it('accepts late packets once, inside 16 behind, and packets up to 16 ahead', () => {
    const w = new SequenceWindow();
    expect(accept(w, 1)).toBe('ok');
    expect(accept(w, 17)).toBe('ok'); // 16 ahead
    expect(w.check(34)).toBe('too-far-ahead');
    expect(accept(w, 5)).toBe('ok'); // late, never seen
    expect(accept(w, 5)).toBe('duplicate');
    expect(accept(w, 2)).toBe('ok'); // 15 behind 17
    expect(w.check(1)).toBe('too-old'); // 16 behind: outside
  });

  it('accepts nothing "before" the start of the session', () => {
    const w = new SequenceWindow();
    expect(w.check(0xffffffff)).not.toBe('ok');
    expect(w.check(0xfffffff5)).not.toBe('ok');
  });

  it('wraps from 2^32-1 to 1, skipping zero', () => {
    const w = SequenceWindow.startingAfter(0xfffffff0);
    expect(accept(w, 0xfffffff5)).toBe('ok'); // 0xfffffff1..4 lost for now
    expect(w.check(0)).toBe('zero');
    expect(accept(w, 1)).toBe('ok'); // 11 ahead across the wrap (zero skipped)
    expect(accept(w, 0xfffffff3)).toBe('ok'); // late, 13 back across the wrap
    expect(accept(w, 0xfffffff3)).toBe('duplicate');
    expect(accept(w, 0xfffffff5)).toBe('duplicate');
    expect(w.check(0xfffffff0)).toBe('too-old');
    expect(w.highest).toBe(1);
  });

  it('never accepts the same number twice (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 300 }), (seqs) => {
        const w = new SequenceWindow();
        const accepted = new Set<number>();
        for (const s of seqs) {
          if (accept(w, s) === 'ok') {
            expect(accepted.has(s)).toBe(false);
            expect(s).not.toBe(0);
            accepted.add(s);
          }
        }
      }),
    );
  });

  it('a check that is not committed does not move the window (forged packets)', () => {
    const w = new SequenceWindow();
    accept(w, 1);
    expect(w.check(10)).toBe('ok');
    expect(w.highest).toBe(1);
    expect(accept(w, 2)).toBe('ok');
  });
});
