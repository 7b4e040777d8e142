import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../src/index.js';

describe('ReplayWindow', () => {
  it('accepts fresh ids once and reports duplicates', () => {
    const w = new ReplayWindow(64);
    expect(w.check(1)).toBe('fresh');
    expect(w.accept(1)).toBe(true);
    expect(w.check(1)).toBe('duplicate');
    expect(w.accept(1)).toBe(false);
    expect(w.accept(3)).toBe(true);
    expect(w.cumulative).toBe(1);
    expect(w.selective()).toEqual([3]);
    expect(w.accept(2)).toBe(true);
    expect(w.cumulative).toBe(3);
    expect(w.highest).toBe(3);
    expect(w.selective()).toEqual([]);
  });

  it('reports ids below the window as too old and gives up on them', () => {
    const w = new ReplayWindow(16);
    w.accept(1);
    w.accept(40);
    expect(w.check(10)).toBe('duplicate'); // at or below the cumulative point, which moved up to 40 - 16
    expect(w.cumulative).toBe(24);
    expect(w.check(25)).toBe('fresh');
    expect(w.check(0)).toBe('too-old');
    expect(w.check(-3)).toBe('too-old');
  });

  it('survives a snapshot and restore', () => {
    const w = new ReplayWindow(32);
    for (const id of [1, 2, 3, 5, 9]) w.accept(id);
    const restored = new ReplayWindow(32, w.snapshot());
    expect(restored.cumulative).toBe(3);
    expect(restored.highest).toBe(9);
    expect(restored.check(5)).toBe('duplicate');
    expect(restored.check(4)).toBe('fresh');
    expect(() => new ReplayWindow(64, w.snapshot())).toThrow(/size/);
  });

  it('advances when the sender says older ids will never come', () => {
    const w = new ReplayWindow(32);
    w.accept(1);
    w.accept(5);
    w.advanceTo(3);
    expect(w.cumulative).toBe(3);
    expect(w.check(2)).toBe('duplicate');
    expect(w.check(4)).toBe('fresh');
    w.advanceTo(100);
    expect(w.cumulative).toBe(100);
    expect(w.highest).toBe(100);
    expect(w.check(101)).toBe('fresh');
  });

  it('agrees with a set-based model on any sequence within the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 300 }), (ids) => {
        const size = 256; // larger than the id range, so nothing falls out
        const w = new ReplayWindow(size);
        const seen = new Set<number>();
        for (const id of ids) {
          const fresh = !seen.has(id);
          expect(w.accept(id)).toBe(fresh);
          seen.add(id);
          let cumulative = 0;
          while (seen.has(cumulative + 1)) cumulative++;
          expect(w.cumulative).toBe(cumulative);
        }
      }),
    );
  });

  it('never delivers an id twice, whatever the order and window size', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 500 }), fc.constantFrom(8, 64, 1024), (ids, size) => {
        const w = new ReplayWindow(size);
        const delivered = new Set<number>();
        for (const id of ids) {
          if (w.accept(id)) {
            expect(delivered.has(id)).toBe(false);
            delivered.add(id);
          }
        }
      }),
    );
  });
});
