/**
 * Reads the two durable records of what happened, read-only, with
 * better-sqlite3 (both files are WAL, so this works while the daemons run):
 * the hypervisor-agent's request journal (`STATE_DIR/agent.db`, table
 * `requests`) and vms-agent's store (`vms.db`: `commands`, `alerts`).
 * Protobuf columns are decoded with proto.
 */
import Database from 'better-sqlite3';
import {
  type CommandRequest,
  type CommandResult,
  decodeMessage,
  actionName,
  domainStateName,
  outcomeName,
  v1,
} from '@backchannel/proto';

export interface DecodedRequest {
  requestId: string;
  hostId: string;
  principal: string;
  action: string;
  domain: string;
  issuedAtMs: number;
}

export interface DecodedResult {
  requestId: string;
  outcome: string;
  previousState: string;
  newState: string;
  errorCode: string;
  completedAtMs: number;
  domains: { name: string; state: string }[];
  domainInfoName: string | null;
}

export interface JournalRow {
  requestId: string;
  state: string; // challenged | applying | done
  request: DecodedRequest;
  result: DecodedResult | null;
  createdMs: number;
  updatedMs: number;
}

export interface StoredCommand {
  id: string;
  hostId: string;
  domain: string;
  action: string;
  principal: string;
  state: string;
  request: DecodedRequest;
  result: DecodedResult | null;
  createdAtMs: number;
}

export interface StoredAlert {
  alertId: string;
  kind: string;
  principal: string;
  requestId: string;
  signatureStatus: string;
}

const num = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

export function decodeRequest(bytes: Uint8Array): DecodedRequest {
  const r: CommandRequest = decodeMessage(v1.CommandRequest, bytes, 'CommandRequest');
  return {
    requestId: r.requestId ?? '',
    hostId: r.hostId ?? '',
    principal: r.principal ?? '',
    action: actionName(r.action ?? 0),
    domain: r.domain ?? '',
    issuedAtMs: num(r.issuedAtMs as number | null | undefined),
  };
}

export function decodeResult(bytes: Uint8Array): DecodedResult {
  const r: CommandResult = decodeMessage(v1.CommandResult, bytes, 'CommandResult');
  return {
    requestId: r.requestId ?? '',
    outcome: outcomeName(r.outcome ?? 0),
    previousState: domainStateName(r.previousState ?? 0),
    newState: domainStateName(r.newState ?? 0),
    errorCode: r.errorCode ?? '',
    completedAtMs: num(r.completedAtMs as number | null | undefined),
    domains: (r.domains ?? []).map((d) => ({ name: d.name ?? '', state: domainStateName(d.state ?? 0) })),
    domainInfoName: r.domainInfo ? (r.domainInfo.name ?? '') : null,
  };
}

function open(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** Every request the hypervisor-agent journaled, keyed by request id. */
export function readAgentJournal(agentDb: string): Map<string, JournalRow> {
  const db = open(agentDb);
  try {
    const rows = db.prepare('SELECT request_id, request, state, result, created_ms, updated_ms FROM requests').all() as {
      request_id: string;
      request: Buffer;
      state: string;
      result: Buffer | null;
      created_ms: number;
      updated_ms: number;
    }[];
    return new Map(
      rows.map((r) => [
        r.request_id,
        { requestId: r.request_id, state: r.state, request: decodeRequest(r.request), result: r.result ? decodeResult(r.result) : null, createdMs: r.created_ms, updatedMs: r.updated_ms },
      ]),
    );
  } finally {
    db.close();
  }
}

/** Every command vms-agent accepted, oldest first. */
export function readVmsCommands(vmsDb: string): StoredCommand[] {
  const db = open(vmsDb);
  try {
    const rows = db.prepare('SELECT id, host_id, domain, action, principal, state, request, result, created_at_ms FROM commands ORDER BY created_at_ms, id').all() as {
      id: string;
      host_id: string;
      domain: string;
      action: string;
      principal: string;
      state: string;
      request: Buffer;
      result: Buffer | null;
      created_at_ms: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      hostId: r.host_id,
      domain: r.domain,
      action: r.action,
      principal: r.principal,
      state: r.state,
      request: decodeRequest(r.request),
      result: r.result ? decodeResult(r.result) : null,
      createdAtMs: r.created_at_ms,
    }));
  } finally {
    db.close();
  }
}

export function readVmsAlerts(vmsDb: string): StoredAlert[] {
  const db = open(vmsDb);
  try {
    return (db.prepare('SELECT alert_id, kind, principal, request_id, signature_status FROM alerts ORDER BY id').all() as {
      alert_id: string;
      kind: string;
      principal: string;
      request_id: string;
      signature_status: string;
    }[]).map((a) => ({ alertId: a.alert_id, kind: a.kind, principal: a.principal, requestId: a.request_id, signatureStatus: a.signature_status }));
  } finally {
    db.close();
  }
}
