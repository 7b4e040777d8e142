/**
 * One benchmark figure and the anchor it is measured against in the same
 * run (issue "End to end": `{name, value, unit, anchor, anchorValue, ratio}`).
 * ratio = value / anchorValue, so > 1 means "more of the unit than the
 * anchor" (for rates that is faster; for latencies, slower).
 */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  anchor: string;
  anchorValue: number;
  ratio: number;
  /** What a reader needs to judge the figure (goal, conditions). */
  note?: string;
}

export function metric(name: string, value: number, unit: string, anchor: string, anchorValue: number, note?: string): Metric {
  const ratio = anchorValue === 0 ? Number.NaN : value / anchorValue;
  return { name, value, unit, anchor, anchorValue, ratio, ...(note ? { note } : {}) };
}

export interface Benchmark {
  /** Selected by `npm run bench -- NAME...` (substring match). */
  name: string;
  description: string;
  run(options: { quick: boolean }): Promise<Metric[]>;
}

/** Runs `fn` repeatedly for about `durationMs` and returns operations per second. */
export function opsPerSecond(durationMs: number, fn: () => void): number {
  const start = performance.now();
  let ops = 0;
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 50; i++) fn();
    ops += 50;
  }
  return ops / ((performance.now() - start) / 1000);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
