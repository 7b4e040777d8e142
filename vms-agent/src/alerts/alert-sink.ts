/** What the deliverer needs of a sink: send a batch of alerts, say which arrived. */
import type { AlertRecord } from '../store/store.js';
import type { SinkConfig } from './sink-config.js';

/** One alert's outcome; `error` says why it did not arrive (the sink's words). */
export type SinkOutcome = { ok: true } | { ok: false; error: string };

export interface AlertSink {
  readonly config: SinkConfig;
  /** Sends the alerts (oldest first); one outcome per alert, in order. Never throws. */
  deliver(alerts: readonly AlertRecord[]): Promise<SinkOutcome[]>;
}

export function allFailed(n: number, error: string): SinkOutcome[] {
  return Array.from({ length: n }, () => ({ ok: false as const, error }));
}
