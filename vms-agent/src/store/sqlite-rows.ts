/** Row shapes of the SQLite store and their mapping to the Store records (the PostgreSQL store reads the same shapes). */
import type { CommandState } from '../commands/lifecycle.js';
import { isRole, type Role, sortRoles } from '../roles.js';
import type { IdempotencyRecord } from './idempotency-keys.js';
import type {
  AlertRecord,
  ApprovalRecord,
  CommandEvent,
  CommandRecord,
  HostRecord,
  InboundWindowRecord,
  OutboxEntry,
  PrincipalRecord,
  SignatureStatus,
  StatusRecord,
  TokenGrant,
  TokenRecord,
} from './store.js';

export interface HostRow {
  id: string;
  bmc_address: string;
  bmc_port: number;
  bmc_user: string;
  bmc_password_enc: Buffer;
  bmc_privilege: string;
  cipher_suites: string;
  iana: number;
  seed_enc: Buffer;
  host_public_key: string | null;
  policy_info: string | null;
  q1_epoch: number;
  q2_epoch: number;
  next_message_id: number;
  created_at_ms: number;
}

export function hostFromRow(r: HostRow): HostRecord {
  const host: HostRecord = {
    id: r.id,
    bmcAddress: r.bmc_address,
    bmcPort: r.bmc_port,
    bmcUser: r.bmc_user,
    bmcPrivilege: r.bmc_privilege === 'administrator' ? 'administrator' : 'operator',
    cipherSuites: JSON.parse(r.cipher_suites) as number[],
    iana: r.iana,
    q1Epoch: r.q1_epoch,
    q2Epoch: r.q2_epoch,
    nextMessageId: r.next_message_id,
    createdAtMs: r.created_at_ms,
  };
  if (r.host_public_key != null) host.hostPublicKey = r.host_public_key;
  if (r.policy_info != null) host.policyInfo = r.policy_info;
  return host;
}

/** `principals.*` plus `roles`: the principal's roles joined with "," (ROLES_OF in the query), null for none. */
export interface PrincipalRow {
  name: string;
  public_key: string;
  secret_key_enc: Buffer | null;
  created_at_ms: number;
  roles: string | null;
}

/** Roles as stored (one row each) → Role[] in the order of ROLES; anything unknown is dropped, never granted. */
export function rolesFromColumn(text: string | null): Role[] {
  return sortRoles((text ?? '').split(',').filter(isRole));
}

export function principalFromRow(r: PrincipalRow): PrincipalRecord {
  return { name: r.name, publicKey: r.public_key, custodial: r.secret_key_enc != null, createdAtMs: r.created_at_ms, roles: rolesFromColumn(r.roles) };
}

export interface TokenRow {
  id: string;
  principal: string;
  label: string;
  created_at_ms: number;
  expires_at_ms: number | null;
  revoked_at_ms: number | null;
}

export function tokenFromRow(r: TokenRow): TokenRecord {
  const t: TokenRecord = { id: r.id, principal: r.principal, label: r.label, createdAtMs: r.created_at_ms };
  if (r.expires_at_ms != null) t.expiresAtMs = r.expires_at_ms;
  if (r.revoked_at_ms != null) t.revokedAtMs = r.revoked_at_ms;
  return t;
}

export function grantFromRow(r: TokenRow & { roles: string | null }): TokenGrant {
  return { ...tokenFromRow(r), roles: rolesFromColumn(r.roles) };
}

export interface CommandRow {
  id: string;
  host_id: string;
  domain: string;
  action: string;
  params: string;
  principal: string;
  state: string;
  request: Buffer;
  challenge: Buffer | null;
  result: Buffer | null;
  response_sent: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export function commandFromRow(r: CommandRow): CommandRecord {
  const c: CommandRecord = {
    id: r.id,
    hostId: r.host_id,
    domain: r.domain,
    action: r.action,
    params: JSON.parse(r.params) as Record<string, string>,
    principal: r.principal,
    state: r.state as CommandState,
    request: new Uint8Array(r.request),
    responseSent: r.response_sent !== 0,
    createdAtMs: r.created_at_ms,
    updatedAtMs: r.updated_at_ms,
  };
  if (r.challenge) c.challenge = new Uint8Array(r.challenge);
  if (r.result) c.result = new Uint8Array(r.result);
  return c;
}

export interface EventRow {
  at_ms: number;
  kind: string;
  state: string;
  detail: string;
}

export function eventFromRow(r: EventRow): CommandEvent {
  return { atMs: r.at_ms, kind: r.kind, state: r.state as CommandState, detail: r.detail };
}

export interface ApprovalRow {
  principal: string;
  key_id: string;
  signature: Buffer;
  custodial: number;
  at_ms: number;
}

export function approvalFromRow(r: ApprovalRow): ApprovalRecord {
  return { principal: r.principal, keyId: r.key_id, signature: new Uint8Array(r.signature), custodial: r.custodial !== 0, atMs: r.at_ms };
}

export interface OutboxRow {
  host_id: string;
  message_id: number;
  body: Buffer;
  kind: string;
  command_id: string | null;
  created_at_ms: number;
  last_sent_at_ms: number;
  send_count: number;
}

export function outboxFromRow(r: OutboxRow): OutboxEntry {
  const e: OutboxEntry = {
    hostId: r.host_id,
    messageId: r.message_id,
    body: new Uint8Array(r.body),
    kind: r.kind,
    createdAtMs: r.created_at_ms,
    lastSentAtMs: r.last_sent_at_ms,
    sendCount: r.send_count,
  };
  if (r.command_id != null) e.commandId = r.command_id;
  return e;
}

export interface AlertRow {
  id: number;
  alert_id: string;
  host_id: string;
  kind: string;
  principal: string;
  action: string;
  domain: string;
  reason: string;
  time_ms: number;
  request_id: string;
  signature_status: string;
  received_at_ms: number;
  acknowledged: number;
  acknowledged_by: string | null;
  acknowledged_at_ms: number | null;
  acknowledged_comment: string | null;
}

export function alertFromRow(r: AlertRow): AlertRecord {
  const a: AlertRecord = {
    id: r.id,
    alertId: r.alert_id,
    hostId: r.host_id,
    kind: r.kind,
    principal: r.principal,
    action: r.action,
    domain: r.domain,
    reason: r.reason,
    timeMs: r.time_ms,
    requestId: r.request_id,
    signatureStatus: r.signature_status as SignatureStatus,
    receivedAtMs: r.received_at_ms,
    acknowledged: r.acknowledged !== 0,
  };
  if (r.acknowledged_by != null) a.acknowledgedBy = r.acknowledged_by;
  if (r.acknowledged_at_ms != null) a.acknowledgedAtMs = r.acknowledged_at_ms;
  if (r.acknowledged_comment != null) a.acknowledgedComment = r.acknowledged_comment;
  return a;
}

export interface InboundWindowRow {
  highest: number;
  cumulative: number;
  bitmap: Buffer;
  size: number;
  peer?: string | null;
}

export function windowFromRow(r: InboundWindowRow): InboundWindowRecord {
  const w: InboundWindowRecord = { highest: Number(r.highest), cumulative: Number(r.cumulative), bitmap: new Uint8Array(r.bitmap), size: Number(r.size) };
  if (r.peer) w.peer = JSON.parse(r.peer) as NonNullable<InboundWindowRecord['peer']>;
  return w;
}

export interface StatusRow {
  host_id: string;
  report: Buffer;
  report_seq: number;
  time_ms: number;
  received_at_ms: number;
}

export function statusFromRow(r: StatusRow): StatusRecord {
  return { hostId: r.host_id, report: new Uint8Array(r.report), reportSeq: r.report_seq, timeMs: r.time_ms, receivedAtMs: r.received_at_ms };
}

export interface IdempotencyRow {
  principal: string;
  key: string;
  scope: string;
  request_hash: string;
  command_id: string;
  status: number;
  created_at_ms: number;
}

export function idempotencyFromRow(r: IdempotencyRow): IdempotencyRecord {
  return { principal: r.principal, key: r.key, scope: r.scope, requestHash: r.request_hash, commandId: r.command_id, status: r.status, createdAtMs: r.created_at_ms };
}
