/**
 * The local, append-only audit journal of security alerts: one JSON object per
 * line, each line fsynced before the alert is sent, file created 0600. The
 * journal holds the signed alert so it can be checked later with the host key.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { type Alert, alertKindName, actionName } from '@backchannel/proto';

export class AlertJournal {
  readonly path: string;
  #fd: number;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'a', 0o600);
  }

  append(alert: Alert): void {
    const line = JSON.stringify({
      id: alert.id,
      kind: alertKindName(alert.kind ?? 0),
      hostId: alert.hostId,
      principal: alert.principal ?? '',
      action: alert.action ? actionName(alert.action) : '',
      domain: alert.domain ?? '',
      reason: alert.reason,
      timeMs: alert.timeMs,
      requestId: alert.requestId ?? '',
      keyId: alert.hostSignature?.keyId ?? '',
      signature: Buffer.from(alert.hostSignature?.signature ?? new Uint8Array()).toString('base64'),
    });
    writeSync(this.#fd, `${line}\n`);
    fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }
}
