/** JSON views of store records for the API (and, through it, the CLI). Bytes are base64. */
import { actionName, type backchannel, decodeMessage, domainStateName, outcomeName, v1 } from '@backchannel/proto';
import type { AlertRecord, CommandDetail, CommandRecord, HostRecord, StatusRecord } from '../store/store.js';

const b64 = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('base64');

export function domainView(d: backchannel.v1.IDomainInfo) {
  return {
    name: d.name ?? '',
    uuid: d.uuid ?? '',
    state: domainStateName(d.state ?? 0),
    vcpus: d.vcpus ?? 0,
    memoryKib: d.memoryKib ?? 0,
    maxMemoryKib: d.maxMemoryKib ?? 0,
    id: d.id ?? -1,
  };
}

export function requestView(bytes: Uint8Array) {
  const r = decodeMessage(v1.CommandRequest, bytes, 'CommandRequest');
  return {
    requestId: r.requestId,
    hostId: r.hostId,
    principal: r.principal,
    action: actionName(r.action),
    domain: r.domain,
    parameters: { ...r.parameters },
    issuedAtMs: r.issuedAtMs,
    signatureKeyId: r.principalSignature?.keyId ?? '',
  };
}

/**
 * `hostClockOffsetMs`: the host's clock minus the manager's, as the link learned it. The
 * challenge's expiry is the host's clock (and what approvers sign); `managerExpiresAtMs` is
 * the same instant on the manager's clock, which is what a person or the CLI compares with.
 */
export function challengeView(bytes: Uint8Array, hostClockOffsetMs = 0) {
  const c = decodeMessage(v1.Challenge, bytes, 'Challenge');
  return {
    requestId: c.requestId,
    hostId: c.hostId,
    nonce: b64(c.nonce),
    expiresAtMs: c.expiresAtMs,
    managerExpiresAtMs: c.expiresAtMs - hostClockOffsetMs,
    requestDigest: b64(c.requestDigest),
    approvalsRequired: Math.max(1, c.approvalsRequired),
    approvers: [...c.approvers],
  };
}

export function resultView(bytes: Uint8Array) {
  const r = decodeMessage(v1.CommandResult, bytes, 'CommandResult');
  return {
    outcome: outcomeName(r.outcome),
    previousState: domainStateName(r.previousState),
    newState: domainStateName(r.newState),
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    completedAtMs: r.completedAtMs,
    domains: r.domains.map(domainView),
    domainInfo: r.domainInfo ? domainView(r.domainInfo) : null,
    domainName: r.domainName,
    domainUuid: r.domainUuid,
    // "guest_powered_off", "domain_gone", "forced", "already_off"; "" when not a stop.
    stopMethod: r.stopMethod ? String(v1.StopMethod[r.stopMethod] ?? r.stopMethod).replace(/^STOP_METHOD_/, '').toLowerCase() : '',
    detail: r.detail,
    durationMs: Number(r.durationMs ?? 0),
  };
}

export function commandSummaryView(c: CommandRecord) {
  return {
    id: c.id,
    hostId: c.hostId,
    domain: c.domain,
    action: c.action,
    principal: c.principal,
    state: c.state,
    createdAtMs: c.createdAtMs,
    updatedAtMs: c.updatedAtMs,
  };
}

export function commandView(c: CommandDetail, hostClockOffsetMs = 0) {
  return {
    ...commandSummaryView(c),
    params: c.params,
    request: requestView(c.request),
    challenge: c.challenge ? challengeView(c.challenge, hostClockOffsetMs) : null,
    responseSent: c.responseSent,
    approvals: c.approvals.map((a) => ({ principal: a.principal, keyId: a.keyId, custodial: a.custodial, atMs: a.atMs })),
    result: c.result ? resultView(c.result) : null,
    events: c.events.map((e) => ({ atMs: e.atMs, kind: e.kind, state: e.state, detail: e.detail })),
  };
}

export function alertView(a: AlertRecord) {
  return {
    id: a.id,
    alertId: a.alertId,
    hostId: a.hostId,
    kind: a.kind,
    principal: a.principal,
    action: a.action,
    domain: a.domain,
    reason: a.reason,
    timeMs: a.timeMs,
    requestId: a.requestId,
    signatureStatus: a.signatureStatus,
    receivedAtMs: a.receivedAtMs,
    acknowledged: a.acknowledged,
    acknowledgedBy: a.acknowledgedBy ?? null,
    acknowledgedAtMs: a.acknowledgedAtMs ?? null,
    acknowledgedComment: a.acknowledgedComment ?? null,
  };
}

/** What the link of one host reports about itself (see link/link-manager.ts). */
export interface LinkHealth {
  /**
   * `auth_failed`: the BMC refused the credentials (no retry into a lockout; lastError says when the
   * next attempt is). `clock_skew`: the session is up but the host's clock is off beyond the
   * channel's tolerance (lastError has the offset).
   */
  state: 'connecting' | 'up' | 'backoff' | 'auth_failed' | 'clock_skew' | 'stopped';
  since: number;
  lastError: string | null;
  unacked: number;
  lastReceiveAtMs: number | null;
  /** Depth and bytes of both BMC queues at the link's last Get Queue Info (null before the first). */
  queues?: { atMs: number; toHost: QueueFigures; toManager: QueueFigures } | null;
  /** The hypervisor's clock minus the manager's (ms), learned through the channel; null before the first message. */
  clockOffsetMs?: number | null;
}

export interface QueueFigures {
  depth: number;
  usedBytes: number;
  capacityBytes: number;
}

export function hostView(h: HostRecord, status: StatusRecord | undefined, link: LinkHealth | undefined, nowMs: number) {
  return {
    id: h.id,
    bmc: { address: h.bmcAddress, port: h.bmcPort, user: h.bmcUser, privilege: h.bmcPrivilege, cipherSuites: h.cipherSuites },
    hostPublicKey: h.hostPublicKey ?? null,
    policyInfo: h.policyInfo ?? null,
    link: link
      ? { state: link.state, sinceMs: link.since, lastError: link.lastError, unacked: link.unacked, lastReceiveAtMs: link.lastReceiveAtMs, queues: link.queues ?? null, clockOffsetMs: link.clockOffsetMs ?? null }
      : { state: 'stopped' as const, sinceMs: null, lastError: 'no link running in this process', unacked: 0, lastReceiveAtMs: null, queues: null, clockOffsetMs: null },
    status: status ? { reportTimeMs: status.timeMs, receivedAtMs: status.receivedAtMs, ageMs: Math.max(0, nowMs - status.receivedAtMs), reportSeq: status.reportSeq } : null,
  };
}

export function domainsView(hostId: string, status: StatusRecord, nowMs: number) {
  const r = decodeMessage(v1.StatusReport, status.report, 'StatusReport');
  return {
    hostId,
    reportTimeMs: status.timeMs,
    ageMs: Math.max(0, nowMs - status.receivedAtMs),
    hypervisor: r.hypervisor,
    libvirtVersion: r.libvirtVersion,
    agentVersion: r.agentVersion,
    domains: r.domains.map(domainView),
  };
}
