/**
 * Regression fixtures of the daemon fuzz suites. A daemon is fuzzed in
 * batches (what it received between two liveness probes), and a crash or a
 * hang can only be pinned to a batch, so a batch is what is saved: one
 * file per failure under test/fuzz-regressions/<target>/, inputs framed as
 * u16 big-endian length + bytes, replayed first on every later run.
 */
import { regressionInputs, saveRegression } from './harness.js';

export function packBatch(inputs: readonly Uint8Array[]): Uint8Array {
  const kept = inputs.map((i) => i.subarray(0, 0xffff));
  const out = new Uint8Array(kept.reduce((n, i) => n + 2 + i.length, 0));
  let at = 0;
  for (const input of kept) {
    out[at] = input.length >> 8;
    out[at + 1] = input.length & 0xff;
    out.set(input, at + 2);
    at += 2 + input.length;
  }
  return out;
}

/** Inverse of packBatch; a truncated tail (a hand-edited file) is ignored. */
export function unpackBatch(packed: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at + 2 <= packed.length) {
    const length = ((packed[at] ?? 0) << 8) | (packed[at + 1] ?? 0);
    if (at + 2 + length > packed.length) break;
    out.push(packed.slice(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return out;
}

export function saveBatchRegression(target: string, inputs: readonly Uint8Array[]): string {
  return saveRegression(target, packBatch(inputs));
}

/** Every saved batch of `target`, in file-name order. */
export function regressionBatches(target: string): Uint8Array[][] {
  return regressionInputs(target).map(unpackBatch);
}
