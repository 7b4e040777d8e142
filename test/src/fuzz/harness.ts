/**
 * Fuzzing harness shared by the suites in test/test/fuzz. Each target is a
 * function that takes bytes and must either return or throw the error class
 * its codec documents (WireError for proto). Anything else — another
 * exception, or an iteration that runs past its time limit — is a failure:
 * the input is saved under test/fuzz-regressions/<target>/ and replayed first
 * on every later run, so a found bug stays found.
 *
 * Sizes: `npm test` runs the base count; `npm run fuzz` sets
 * BACKCHANNEL_FUZZ_SCALE (default there: 50) to multiply it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FUZZ_SCALE = Math.max(1, Number(process.env.BACKCHANNEL_FUZZ_SCALE ?? '1') || 1);
const REGRESSIONS = new URL('../../fuzz-regressions/', import.meta.url).pathname;

/** Deterministic PRNG (xorshift32) so a run is reproducible from its seed. */
export class FuzzRandom {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
  below(n: number): number {
    return this.next() % n;
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** Classic byte-level mutations of a valid input: flips, replacements, inserts, deletes, splices. */
export function mutate(input: Uint8Array, rng: FuzzRandom): Uint8Array {
  let out = Uint8Array.from(input);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const at = out.length === 0 ? 0 : rng.below(out.length);
    switch (rng.below(7)) {
      case 0: // bit flip
        if (out.length) out[at] = (out[at] ?? 0) ^ (1 << rng.below(8));
        break;
      case 1: // interesting byte
        if (out.length) out[at] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xa0, 0xa1, 0xaa][rng.below(8)] ?? 0;
        break;
      case 2: // random byte
        if (out.length) out[at] = rng.below(256);
        break;
      case 3: // insert random bytes
        out = Uint8Array.from([...out.subarray(0, at), ...rng.bytes(1 + rng.below(8)), ...out.subarray(at)]);
        break;
      case 4: // delete a run
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1 + rng.below(8))]);
        break;
      case 5: // truncate
        out = out.subarray(0, at);
        break;
      default: // duplicate a slice
        out = Uint8Array.from([...out, ...out.subarray(at, at + 1 + rng.below(16))]);
    }
  }
  return out;
}

export interface FuzzTarget {
  name: string;
  /** Valid inputs to mutate. */
  corpus: Uint8Array[];
  /** Runs the code under test on one input. Throwing `isExpectedError` errors is fine. */
  run(input: Uint8Array): unknown;
  isExpectedError(err: unknown): boolean;
  /** Per-input time limit (ms): an input taking longer counts as a hang. */
  hangMs?: number;
}

export interface FuzzReport {
  executions: number;
  expectedErrors: number;
  failures: Array<{ file: string; error: string }>;
}

export function saveRegression(target: string, input: Uint8Array): string {
  const dir = join(REGRESSIONS, target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(input).digest('hex').slice(0, 16)}.bin`);
  writeFileSync(file, input);
  return file;
}

export function regressionInputs(target: string): Uint8Array[] {
  const dir = join(REGRESSIONS, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** Replays saved regressions, then runs `iterations` random and mutated inputs. */
export function fuzz(target: FuzzTarget, iterations: number, seed = 0x5eed): FuzzReport {
  const rng = new FuzzRandom(seed);
  const report: FuzzReport = { executions: 0, expectedErrors: 0, failures: [] };
  const hangMs = target.hangMs ?? 250;
  const one = (input: Uint8Array): void => {
    const started = performance.now();
    try {
      target.run(input);
    } catch (err) {
      if (target.isExpectedError(err)) report.expectedErrors++;
      else report.failures.push({ file: saveRegression(target.name, input), error: String((err as Error)?.stack ?? err) });
    }
    const took = performance.now() - started;
    if (took > hangMs) report.failures.push({ file: saveRegression(target.name, input), error: `took ${took.toFixed(0)} ms (limit ${hangMs})` });
    report.executions++;
  };
  for (const input of regressionInputs(target.name)) one(input);
  for (let i = 0; i < iterations && report.failures.length < 5; i++) {
    const base = target.corpus[rng.below(target.corpus.length)] ?? new Uint8Array();
    // One in four inputs is pure noise; the rest are mutations of valid inputs.
    one(rng.below(4) === 0 ? rng.bytes(rng.below(base.length + 32)) : mutate(base, rng));
  }
  return report;
}
