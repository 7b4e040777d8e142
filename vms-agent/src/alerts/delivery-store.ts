/**
 * The durable side of alert delivery (docs/alert-delivery.md). The store's
 * `alert_outbox` gets one row per alert, by a trigger, in the transaction
 * that stores the alert. Each configured sink has a cursor into that
 * outbox; entries past it are copied into `alert_deliveries` (one row per
 * sink and alert) which hold the sink's state for that alert: pending
 * (with attempts and the next attempt's time), delivered, or dead.
 *
 * A delivery being sent is "claimed" until a time, so another replica (or
 * a second loop) does not send it at once as well; after a crash the claim
 * simply runs out (on SQLite, `releaseClaims` at start-up ends it at once:
 * only one `serve` uses a SQLite store).
 */
import type { AlertRecord } from '../store/store.js';

export type DeliveryState = 'pending' | 'delivered' | 'dead';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivered', 'dead'];

export interface DueDelivery {
  sink: string;
  seq: number;
  /** Attempts already made. */
  attempts: number;
  alert: AlertRecord;
}

export interface DeliveryEntry {
  sink: string;
  seq: number;
  alertId: number;
  state: DeliveryState;
  attempts: number;
  nextAttemptAtMs: number;
  lastError: string | null;
  updatedAtMs: number;
  deliveredAtMs: number | null;
  /** When the alert entered the outbox. */
  queuedAtMs: number;
  kind: string;
  hostId: string;
}

export interface SinkCounts {
  sink: string;
  pending: number;
  delivered: number;
  dead: number;
  /** When the oldest pending alert entered the outbox (null: none pending). */
  oldestPendingAtMs: number | null;
  lastDeliveredAtMs: number | null;
  lastError: string | null;
  lastErrorAtMs: number | null;
}

export type DeliveryOutcome = { seq: number; attempts: number } & ({ ok: true } | { ok: false; error: string; dead: boolean; nextAttemptAtMs: number });

export interface DeliveryFilter {
  sink?: string;
  state?: DeliveryState;
  limit?: number;
}

export interface DeliveryStore {
  /**
   * Registers sinks not seen before (a new sink starts at the outbox's
   * current end: it receives alerts stored from now on) and copies the
   * outbox entries past each named sink's cursor into its deliveries.
   */
  sync(sinks: readonly string[], nowMs: number): Promise<void>;
  /** Pending deliveries of `sink` due at `nowMs` and not claimed, oldest first, claimed until `claimUntilMs`. */
  claimDue(sink: string, nowMs: number, claimUntilMs: number, limit: number): Promise<DueDelivery[]>;
  /** Records what became of claimed deliveries (and ends their claims), in one transaction. */
  record(sink: string, outcomes: readonly DeliveryOutcome[], nowMs: number): Promise<void>;
  /** Ends every claim (SQLite start-up: no other process can hold one). */
  releaseClaims(): Promise<void>;
  /** The earliest next attempt of a pending, unclaimed delivery of `sink`, or undefined. */
  nextDueAtMs(sink: string): Promise<number | undefined>;
  counts(sinks: readonly string[]): Promise<SinkCounts[]>;
  list(filter: DeliveryFilter): Promise<DeliveryEntry[]>;
  /** Makes a dead (or pending) delivery pending again with its attempts reset, due now; undefined if there is none. */
  redeliver(sink: string, seq: number, nowMs: number): Promise<DeliveryEntry | undefined>;
}

/** Stores that hold an alert outbox (both of ours). */
export interface HasDeliveryStore {
  deliveries(): DeliveryStore;
}

export function hasDeliveryStore(store: unknown): store is HasDeliveryStore {
  return typeof (store as Partial<HasDeliveryStore>).deliveries === 'function';
}
