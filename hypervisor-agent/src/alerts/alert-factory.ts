/** Builds and signs alerts with the host's Ed25519 key (proto signAlert). */
import { type Action, type Alert, type AlertKind, type RandomBytes, signAlert, type SigningKeyPair } from '@backchannel/proto';

export interface AlertFacts {
  kind: AlertKind;
  reason: string;
  principal?: string;
  action?: Action;
  domain?: string;
  requestId?: string;
}

export function buildAlert(facts: AlertFacts, ctx: { hostId: string; hostKey: SigningKeyPair; nowMs: number; randomBytes: RandomBytes }): Alert {
  const alert: Alert = {
    id: Buffer.from(ctx.randomBytes(16)).toString('hex'),
    kind: facts.kind,
    hostId: ctx.hostId,
    principal: facts.principal ?? '',
    action: facts.action ?? 0,
    domain: facts.domain ?? '',
    reason: facts.reason,
    timeMs: ctx.nowMs,
    requestId: facts.requestId ?? '',
  };
  alert.hostSignature = signAlert(alert, ctx.hostKey);
  return alert;
}
