/**
 * bmc-oem's audit trail: records in the SEL (sel/bmc-events.ts) for what
 * an operator or security team will want to see later, and for security
 * events also a warning in the log and a count in
 * `bmc_oem_security_events_total{kind}`. A security event is raised only
 * for what cannot be benign:
 * - `login-throttled`: a source went past the free failed logins for a name;
 * - `host-link-takeover`: a second host connection while a live one is in place;
 * - `queue-seq-collision`: a queue 1 seq reused with different bytes by another
 *   source or user (a foreign producer).
 * Writing the SEL never fails an answer: a SEL that cannot be written is logged.
 */
import type { Logger } from 'pino';
import type { ChassisControlAction } from '../commands/host-power-port.js';
import { CHASSIS_CONTROL_ACTIONS } from '../commands/host-power-port.js';
import type { BmcMetrics } from '../metrics.js';
import { BmcEventCode, encodeBmcEvent, lastAddressByte, type BmcEventCodeValue } from '../sel/bmc-events.js';
import type { SelStore } from '../sel/sel-store.js';
import type { UserChangeKind } from '../users/user-commands.js';

export type SecurityEventKind = 'login-throttled' | 'host-link-takeover' | 'queue-seq-collision';

const USER_CHANGE_CODES: Record<UserChangeKind, number> = { name: 1, password: 2, enable: 3, disable: 4, access: 5 };

export class BmcAudit {
  constructor(
    private readonly o: {
      /** The SEL of the service now running (it is replaced by a cold reset). */
      sel: () => SelStore | undefined;
      logger: Logger;
      metrics: BmcMetrics;
    },
  ) {}

  #record(code: BmcEventCodeValue, data2 = 0, data3 = 0): void {
    const sel = this.o.sel();
    if (sel === undefined) return;
    try {
      sel.add(encodeBmcEvent(code, data2, data3), true);
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message, code }, 'cannot write the SEL');
    }
  }

  #security(kind: SecurityEventKind, fields: object, msg: string): void {
    this.o.metrics.securityEvents.inc({ kind });
    this.o.logger.warn({ security: kind, ...fields }, msg);
  }

  started(why: 'start' | 'cold-reset' | 'warm-reset'): void {
    this.#record(BmcEventCode.Started, why === 'start' ? 0 : why === 'cold-reset' ? 1 : 2);
  }

  powerAction(action: ChassisControlAction, outcome: 'done' | 'failed' | 'unsupported', channel: 'lan' | 'system', userId: number): void {
    this.#record(BmcEventCode.HostPower, CHASSIS_CONTROL_ACTIONS.indexOf(action) | (outcome === 'done' ? 0 : 0x80), channel === 'lan' ? userId : 0);
  }

  userChanged(what: UserChangeKind, userId: number, channel: 'lan' | 'system', byUserId: number): void {
    this.#record(BmcEventCode.UserChanged, userId, USER_CHANGE_CODES[what] | (channel === 'lan' ? 0x10 : 0x20));
    this.o.logger.info({ what, userId, channel, byUserId }, 'user changed');
  }

  loginThrottled(userName: string, userId: number, source: string, failures: number, delayMs: number): void {
    this.#record(BmcEventCode.LoginThrottled, userId, lastAddressByte(source));
    this.#security('login-throttled', { user: userName, source, failures, delayMs }, 'repeated failed logins: this source must now wait before trying this user again');
  }

  hostLinkTakeover(listen: string, remote: string | undefined): void {
    this.#record(BmcEventCode.HostLinkTakeover, lastAddressByte(remote));
    this.#security('host-link-takeover', { listen, remote }, 'a second connection tried to take over the live host link; refused');
  }

  queueSeqCollision(queue: number, seq: number, peer: string, user: string): void {
    this.#record(BmcEventCode.QueueSeqCollision, queue, seq & 0xff);
    this.#security('queue-seq-collision', { queue, seq, peer, user }, 'a queue seq was put again with different bytes from another source or user (foreign producer)');
  }
}
