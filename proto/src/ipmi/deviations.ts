/**
 * Be strict in what you send, tolerant in what you accept: real BMCs answer
 * some commands with a few bytes too many or too few (pyghmi's BMC sends a
 * 14-byte Get Device ID, some firmware drops optional trailing bytes). The
 * response decoders that tolerate this report each deviation they accepted
 * to a sink, so a client can count them; when none is given they land in
 * `ipmiDeviations`, a process-wide counter a service can export as a metric.
 * A deviation never changes what the well-formed bytes mean.
 */
export interface Deviation {
  /** Which response, e.g. "Get Device ID". */
  message: string;
  /** What was off: 'short' (bytes missing, taken as 0), 'long' (extra bytes ignored), 'aux-length' ... */
  kind: string;
  /** The length received. */
  length: number;
}

export type DeviationSink = (d: Deviation) => void;

/** Counts deviations by "message: kind". Pure (no IO); read it to export metrics. */
export class DeviationCounter {
  readonly #counts = new Map<string, number>();

  readonly sink: DeviationSink = (d) => {
    const key = `${d.message}: ${d.kind}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  };

  get total(): number {
    let n = 0;
    for (const v of this.#counts.values()) n += v;
    return n;
  }

  /** Counts by "message: kind". */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}

/** Where decoders report deviations when the caller gives no sink. */
export const ipmiDeviations = new DeviationCounter();
