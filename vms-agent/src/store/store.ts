/**
 * The one data-access interface of vms-agent. The SQLite implementation is
 * the default; a PostgreSQL one (several replicas) implements the same
 * methods. Every change that must be atomic is one call: either a
 * dedicated method or `apply(mutations)`, which runs a list of typed
 * mutations in one transaction and fails as a whole (StoreConflictError
 * when a command is not in the state the caller expected).
 *
 * Secrets go in as plaintext and come out as plaintext only through the
 * methods named `...Secret...`; the implementation encrypts them at rest.
 */
import type { CommandState } from '../commands/lifecycle.js';
import type { PeerState } from '@backchannel/proto';
import type { Role } from '../roles.js';
import type { IdempotencyKeys, IdempotencyRecord } from './idempotency-keys.js';

export interface ApplyOptions {
  /** Wait for the disk before returning (default true). */
  durable?: boolean;
}

export interface HostInput {
  id: string;
  bmcAddress: string;
  bmcPort: number;
  bmcUser: string;
  bmcPassword: string;
  /** IPMI privilege for the session: 'operator' (enough for queues) or 'administrator'. */
  bmcPrivilege: 'operator' | 'administrator';
  cipherSuites: number[];
  /** IANA enterprise number used in OEM commands (PROTOCOL.md §2). */
  iana: number;
  seed: Uint8Array;
  /** "ed25519:..." of the hypervisor's host key; alerts are verified against it. */
  hostPublicKey?: string;
  /** Free-form note on the policy the hypervisor enforces (shown, not enforced here). */
  policyInfo?: string;
}

export interface HostRecord extends Omit<HostInput, 'bmcPassword' | 'seed'> {
  createdAtMs: number;
  /** Last bmc_epoch seen for queue 1 and queue 2 (0 = never seen). */
  q1Epoch: number;
  q2Epoch: number;
  nextMessageId: number;
}

export interface HostSecrets {
  bmcPassword: string;
  seed: Uint8Array;
}

export interface PrincipalRecord {
  name: string;
  publicKey: string;
  custodial: boolean;
  createdAtMs: number;
  /** What the principal may do through the API (roles.ts), in the order of ROLES. */
  roles: Role[];
}

export interface PrincipalInput {
  name: string;
  publicKey: string;
  secretKey?: Uint8Array;
  /** Default: DEFAULT_ROLES. */
  roles?: readonly Role[];
}

export interface TokenInput {
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  hash: string;
  principal: string;
  label: string;
  /** When the token stops working; none: it works until revoked. */
  expiresAtMs?: number;
}

export interface TokenRecord {
  /** Public handle of the token (the first 16 hex digits of its hash), for `tokens list` and `tokens revoke`. */
  id: string;
  principal: string;
  label: string;
  createdAtMs: number;
  expiresAtMs?: number;
  revokedAtMs?: number;
}

/** A token looked up by its hash, with its principal's current roles. */
export interface TokenGrant extends TokenRecord {
  roles: Role[];
}

/** The token id of a token hash. */
export function tokenIdOf(hash: string): string {
  return hash.slice(0, 16);
}

export interface CommandRecord {
  id: string;
  hostId: string;
  domain: string;
  action: string;
  params: Record<string, string>;
  principal: string;
  state: CommandState;
  /** protobuf CommandRequest as sent. */
  request: Uint8Array;
  /** protobuf Challenge once one arrived. */
  challenge?: Uint8Array;
  /** protobuf CommandResult once one arrived. */
  result?: Uint8Array;
  responseSent: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface CommandEvent {
  atMs: number;
  kind: string;
  state: CommandState;
  detail: string;
}

export interface ApprovalRecord {
  principal: string;
  keyId: string;
  signature: Uint8Array;
  custodial: boolean;
  atMs: number;
}

export interface CommandDetail extends CommandRecord {
  events: CommandEvent[];
  approvals: ApprovalRecord[];
}

export interface OutboxEntry {
  hostId: string;
  messageId: number;
  /** protobuf Body without its ack; the current ack is added when sealed. */
  body: Uint8Array;
  kind: string;
  commandId?: string;
  createdAtMs: number;
  lastSentAtMs: number;
  sendCount: number;
}

/** `manager`: raised by vms-agent itself (e.g. foreign_producer), so there is no host signature. */
export type SignatureStatus = 'verified' | 'bad' | 'unverified' | 'manager';

export interface AlertInput {
  alertId: string;
  hostId: string;
  kind: string;
  principal: string;
  action: string;
  domain: string;
  reason: string;
  timeMs: number;
  requestId: string;
  signatureStatus: SignatureStatus;
  receivedAtMs: number;
  /** protobuf Alert as received. */
  raw: Uint8Array;
}

export interface AlertRecord extends Omit<AlertInput, 'raw'> {
  id: number;
  acknowledged: boolean;
  acknowledgedBy?: string;
  acknowledgedAtMs?: number;
  /** What the acknowledging principal wrote (why it is benign, what was done). */
  acknowledgedComment?: string;
}

export interface AlertFilter {
  hostId?: string;
  kind?: string;
  principal?: string;
  sinceMs?: number;
  acknowledged?: boolean;
  limit?: number;
}

export interface StatusRecord {
  hostId: string;
  /** protobuf StatusReport. */
  report: Uint8Array;
  reportSeq: number;
  timeMs: number;
  receivedAtMs: number;
}

export interface InboundWindowRecord {
  highest: number;
  cumulative: number;
  bitmap: Uint8Array;
  size: number;
  /** What the channel learned of the host (proto PeerState: clock offset, incarnations seen). */
  peer?: PeerState;
}

export interface CommandFilter {
  hostId?: string;
  /** Only commands this principal issued. */
  principal?: string;
  states?: CommandState[];
  limit?: number;
}

/** One step of an atomic `apply`. */
export type Mutation =
  | { kind: 'command.insert'; command: Omit<CommandRecord, 'updatedAtMs' | 'responseSent' | 'state'>; detail: string }
  | {
      kind: 'command.transition';
      id: string;
      /** The state the caller saw; the transaction fails with StoreConflictError otherwise. */
      from: CommandState | CommandState[];
      to: CommandState;
      atMs: number;
      detail: string;
      challenge?: Uint8Array;
      result?: Uint8Array;
      responseSent?: boolean;
    }
  | { kind: 'command.event'; id: string; atMs: number; event: string; detail: string }
  | { kind: 'approval.insert'; commandId: string; approval: ApprovalRecord }
  | { kind: 'outbox.enqueue'; hostId: string; body: Uint8Array; messageKind: string; commandId?: string; atMs: number }
  /** Takes the next message id without keeping a body (ack-only messages are never retransmitted). */
  | { kind: 'message.allocate'; hostId: string }
  | { kind: 'outbox.sent'; hostId: string; messageId: number; atMs: number }
  | { kind: 'outbox.ack'; hostId: string; messageIds: number[] }
  | { kind: 'inbound.window'; hostId: string; window: InboundWindowRecord; atMs: number }
  | { kind: 'alert.insert'; alert: AlertInput }
  | { kind: 'status.upsert'; status: StatusRecord }
  | { kind: 'host.epochs'; hostId: string; q1Epoch?: number; q2Epoch?: number }
  /** Records a client's idempotency key with the command it created or approved; a key already used fails the batch (IdempotencyKeyTakenError). */
  | { kind: 'idempotency.insert'; record: IdempotencyRecord; expiredBeforeMs: number };

/** What `apply` hands back: the message id of each `outbox.enqueue` / `message.allocate`, in order. */
export interface ApplyResult {
  messageIds: number[];
  /** Alerts inserted (0 for a duplicate of one already stored). */
  alertsInserted: number;
}

export class StoreConflictError extends Error {
  readonly code = 'COMMAND_STATE_CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

export class StoreNotFoundError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StoreNotFoundError';
    this.code = code;
  }
}

export interface Store extends IdempotencyKeys {
  // hosts
  addHost(host: HostInput, nowMs: number): Promise<void>;
  getHost(id: string): Promise<HostRecord | undefined>;
  getHostSecrets(id: string): Promise<HostSecrets | undefined>;
  listHosts(): Promise<HostRecord[]>;
  /** Removes a host and everything queued for it, closing its unfinished commands as failed; false if there was none. */
  removeHost(id: string, nowMs?: number): Promise<boolean>;
  setHostPublicKey(id: string, publicKey: string): Promise<void>;

  // principals, roles and tokens
  addPrincipal(p: PrincipalInput, nowMs: number): Promise<void>;
  getPrincipal(name: string): Promise<PrincipalRecord | undefined>;
  getPrincipalSecretKey(name: string): Promise<Uint8Array | undefined>;
  listPrincipals(): Promise<PrincipalRecord[]>;
  /** Replaces the principal's roles (StoreNotFoundError PRINCIPAL_NOT_FOUND if there is none). */
  setPrincipalRoles(name: string, roles: readonly Role[]): Promise<void>;
  /** Removes a principal with its roles and tokens; its name stays in command and alert history. False if there was none. */
  removePrincipal(name: string): Promise<boolean>;
  addToken(t: TokenInput, nowMs: number): Promise<TokenRecord>;
  /** The token with this hash (revoked and expired ones too: the caller says why it refuses them). */
  getToken(hash: string): Promise<TokenGrant | undefined>;
  listTokens(filter?: { principal?: string }): Promise<TokenRecord[]>;
  /** Revokes the token with this id (the first revocation's time stays); undefined if there is none. */
  revokeToken(id: string, nowMs: number): Promise<TokenRecord | undefined>;

  // the service's own signing key (created once, kept encrypted)
  getOrCreateServiceKey(create: () => Uint8Array): Promise<Uint8Array>;

  // commands
  getCommand(id: string): Promise<CommandDetail | undefined>;
  listCommands(filter: CommandFilter): Promise<CommandRecord[]>;

  // per-host channel state
  listOutbox(hostId: string): Promise<OutboxEntry[]>;
  getInboundWindow(hostId: string): Promise<InboundWindowRecord | undefined>;
  getStatus(hostId: string): Promise<StatusRecord | undefined>;

  // alerts
  listAlerts(filter: AlertFilter): Promise<AlertRecord[]>;
  getAlert(id: number): Promise<AlertRecord | undefined>;
  /** Acknowledges with who, when and a comment; the first acknowledgement wins. Undefined if there is no such alert. */
  ackAlert(id: number, ack: { by: string; comment: string }, nowMs: number): Promise<AlertRecord | undefined>;

  /**
   * Runs all mutations in one transaction. With `durable: false` the
   * transaction survives a crash of the process but may be lost with the
   * machine's power (SQLite `synchronous=NORMAL` for it, PostgreSQL
   * `synchronous_commit = off`): for bookkeeping nothing depends on, such as
   * when a message was put on the BMC (a lost "sent" only means it is sent
   * again). The next durable transaction makes it durable too.
   */
  apply(mutations: Mutation[], options?: ApplyOptions): Promise<ApplyResult>;

  close(): Promise<void>;
}
