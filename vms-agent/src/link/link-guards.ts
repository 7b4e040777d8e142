/**
 * Guards of one host link that are not the link itself: the foreign-producer alert, the
 * text of a clock beyond tolerance, the credentials a refused login used, a Hello incarnation.
 *
 * The manager-side `foreign_producer` alert (team numbering: a manager-side
 * kind, a string in the store; AlertKind 10 stays reserved on the wire).
 *
 * Queue 1 has one legitimate producer, this host's link. A Put Record
 * answered with a `last_put_seq` above the seq just put means someone else
 * (anyone holding the BMC operator password) put records there: the BMC
 * took ours as a retransmission and did not store it. The link continues
 * after the foreign records at once; this is what the security team sees.
 *
 * One foreign record that takes exactly the seq the link puts next cannot
 * be told from a retransmission by the Put answer alone (it says
 * `last_put_seq` = ours either way): the hypervisor-agent then reads a
 * record that is no fragment of ours and raises `malformed_record` (or
 * `decryption_failed`), and the torn message is sent again.
 */
import type { RandomBytes } from '@backchannel/proto';
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../api/metrics.js';
import type { AlertInput, HostRecord, Store } from '../store/store.js';

export const FOREIGN_PRODUCER_KIND = 'foreign_producer';

export function foreignProducerAlert(a: { hostId: string; ourSeq: number; lastPutSeq: number; count: number; nowMs: number; randomBytes: RandomBytes }): AlertInput {
  const id = Buffer.from(a.randomBytes(8)).toString('hex');
  return {
    alertId: `${FOREIGN_PRODUCER_KIND}:${id}`,
    hostId: a.hostId,
    kind: FOREIGN_PRODUCER_KIND,
    principal: '',
    action: '',
    domain: '',
    reason:
      `another producer put records on BMC queue 1 of host ${a.hostId} (Put Record of seq ${a.ourSeq} answered last_put_seq ${a.lastPutSeq}; ` +
      `${a.count} foreign record(s) since the last alert); only vms-agent should: someone holds this BMC's operator password. The link resynchronised after them`,
    timeMs: a.nowMs,
    requestId: '',
    signatureStatus: 'manager',
    receivedAtMs: a.nowMs,
    raw: new Uint8Array(0),
  };
}

/** Counts foreign puts and stores the alert, one a minute at most under a sustained injection (with the count since the last). */
export class ForeignProducerGuard {
  readonly #o: { hostId: string; store: Store; clock: () => number; randomBytes: RandomBytes; metrics?: ServiceMetrics; logger?: Logger };
  #lastAlertAt = Number.NEGATIVE_INFINITY;
  #sinceAlert = 0;

  constructor(options: { hostId: string; store: Store; clock: () => number; randomBytes: RandomBytes; metrics?: ServiceMetrics; logger?: Logger }) {
    this.#o = options;
  }

  /** Put Record of `ourSeq` was answered `lastPutSeq` (> ourSeq). */
  async detected(ourSeq: number, lastPutSeq: number): Promise<void> {
    const { hostId } = this.#o;
    this.#o.metrics?.foreignPuts.inc({ host: hostId });
    this.#sinceAlert += lastPutSeq - ourSeq + 1;
    const now = this.#o.clock();
    this.#o.logger?.warn({ host: hostId, ourSeq, lastPutSeq }, 'foreign producer on queue 1: Put Record answered a last_put_seq that is not ours; resynchronised');
    if (now - this.#lastAlertAt < 60_000) return;
    const count = this.#sinceAlert;
    this.#lastAlertAt = now;
    this.#sinceAlert = 0;
    const alert = foreignProducerAlert({ hostId, ourSeq, lastPutSeq, count, nowMs: now, randomBytes: this.#o.randomBytes });
    const { alertsInserted } = await this.#o.store.apply([{ kind: 'alert.insert', alert }]);
    if (alertsInserted > 0) this.#o.metrics?.alertsReceived.inc({ kind: alert.kind, signature: alert.signatureStatus });
  }
}

/** lastError of a link in `clock_skew`. */
export function clockSkewText(offsetMs: number, maxSkewMs: number): string {
  const tolerance = Math.round(maxSkewMs / 60_000);
  return `the host's clock is ${formatOffset(offsetMs)} ${offsetMs > 0 ? 'ahead of' : 'behind'} the manager's, beyond the channel's tolerance of ${tolerance} min: its messages are dropped until a clock is corrected (check NTP on both)`;
}

/** What a refused login used, to notice new credentials in the store (compared in memory, never logged). */
export function credentialsOf(host: HostRecord, password: string): string {
  return JSON.stringify([host.bmcAddress, host.bmcPort, host.bmcUser, host.bmcPrivilege, host.cipherSuites, password]);
}

/** A random 48-bit incarnation for Hello (exact in a double, never 0). */
export function randomIncarnation(randomBytes: RandomBytes): number {
  let n = 0;
  for (const b of randomBytes(6)) n = n * 256 + b;
  return n || 1;
}

export function formatOffset(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  return min >= 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${min} min`;
}
