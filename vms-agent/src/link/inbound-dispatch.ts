/**
 * (Decoded messages are protobufjs class instances with defaults on the
 * prototype, hence the casts from the I-interfaces the Body declares.)
 *
 * What a delivered Body from a host means for the store: acknowledgements,
 * challenges and results (through the command service), status reports,
 * and alerts (verified against the host's key). Returned as mutations the
 * link applies together with its replay window, plus what the link itself
 * must do (acknowledged ids, "peer restarted: resend everything").
 */
import { alertKindName, type backchannel, actionName, decodePublicKey, encodeMessage, v1, verifyAlert } from '@backchannel/proto';
import type { ServiceMetrics } from '../api/metrics.js';
import type { CommandService } from '../commands/command-service.js';
import type { HostRecord, Mutation, SignatureStatus } from '../store/store.js';

export interface Dispatch {
  mutations: Mutation[];
  /** The peer restarted or lost queue records: resend every unacknowledged message now. */
  resendAll: boolean;
  /** Whether this message asks for an acknowledgement (anything but a bare ack). */
  needsAck: boolean;
  /** Final states reached, for metrics. */
  finals: string[];
}

export function alertSignatureStatus(alert: backchannel.v1.Alert, hostPublicKey: string | undefined): SignatureStatus {
  if (!hostPublicKey) return 'unverified';
  try {
    return verifyAlert(alert, decodePublicKey(hostPublicKey)) ? 'verified' : 'bad';
  } catch {
    return 'bad';
  }
}

export async function dispatchBody(
  host: HostRecord,
  body: backchannel.v1.Body,
  deps: { commands: CommandService; metrics?: ServiceMetrics; nowMs: number },
): Promise<Dispatch> {
  const out: Dispatch = { mutations: [], resendAll: false, needsAck: body.payload !== undefined, finals: [] };
  switch (body.payload) {
    case 'challenge':
      out.mutations.push(...(await deps.commands.onChallenge(host.id, body.challenge as backchannel.v1.Challenge)));
      break;
    case 'commandResult': {
      const m = await deps.commands.onResult(host.id, body.commandResult as backchannel.v1.CommandResult);
      for (const x of m) if (x.kind === 'command.transition') out.finals.push(x.to);
      out.mutations.push(...m);
      break;
    }
    case 'commandProgress':
      out.mutations.push(...(await deps.commands.onProgress(host.id, body.commandProgress as backchannel.v1.CommandProgress)));
      break;
    case 'statusReport': {
      const r = body.statusReport as backchannel.v1.StatusReport;
      out.mutations.push({
        kind: 'status.upsert',
        status: { hostId: host.id, report: encodeMessage(v1.StatusReport, r, 'StatusReport'), reportSeq: r.reportSeq, timeMs: r.timeMs, receivedAtMs: deps.nowMs },
      });
      break;
    }
    case 'alert': {
      const a = body.alert as backchannel.v1.Alert;
      const status = alertSignatureStatus(a, host.hostPublicKey);
      deps.metrics?.alertsReceived.inc({ kind: alertKindName(a.kind), signature: status });
      out.mutations.push({
        kind: 'alert.insert',
        alert: {
          alertId: a.id || `${host.id}:${a.timeMs}:${a.kind}`,
          hostId: host.id,
          kind: alertKindName(a.kind),
          principal: a.principal,
          action: actionName(a.action),
          domain: a.domain,
          reason: a.reason,
          timeMs: a.timeMs,
          requestId: a.requestId,
          signatureStatus: status,
          receivedAtMs: deps.nowMs,
          raw: encodeMessage(v1.Alert, a, 'Alert'),
        },
      });
      break;
    }
    // A Hello or Resync makes us resend what is unacknowledged. Its last_delivered_id releases
    // nothing: it was taken when the message was queued, maybe before the host saw our latest
    // Hello (then it counts an earlier incarnation's ids), while the ack the same body carries
    // was taken when it was sealed and names the incarnation it counts.
    case 'hello':
    case 'resync':
      out.resendAll = true;
      break;
    default:
      // commandRequest / challengeResponse travel the other way: nothing to do with them here.
      break;
  }
  return out;
}
