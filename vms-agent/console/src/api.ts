/**
 * The API, same origin. The token lives in sessionStorage (gone with the
 * tab) and only ever travels in the Authorization header, never in a URL.
 */
const TOKEN_KEY = 'backchannel.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

export function authHeaders(t: string | null = token()): Record<string, string> {
  return t ? { authorization: `Bearer ${t}` } : {};
}

let onUnauthenticated: () => void = () => undefined;
export function whenUnauthenticated(fn: () => void): void {
  onUnauthenticated = fn;
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown, t: string | null = token()): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { ...authHeaders(t), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    cache: 'no-store',
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (json ?? {}) as { code?: string; message?: string };
    if (res.status === 401 && t === token()) onUnauthenticated();
    throw new ApiError(res.status, e.code ?? 'HTTP_' + res.status, e.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

export async function metricsText(): Promise<string> {
  const res = await fetch('/metrics', { headers: authHeaders(), cache: 'no-store' });
  return res.ok ? res.text() : '';
}

export interface Me {
  principal: string;
  roles: string[];
}

export interface Alert {
  id: number;
  alertId: string;
  hostId: string;
  kind: string;
  principal: string;
  action: string;
  domain: string;
  reason: string;
  timeMs: number;
  requestId: string;
  signatureStatus: 'verified' | 'bad' | 'unverified';
  receivedAtMs: number;
  acknowledged: boolean;
  acknowledgedBy: string | null;
  acknowledgedAtMs: number | null;
  acknowledgedComment: string | null;
}

export interface CommandSummary {
  id: string;
  hostId: string;
  domain: string;
  action: string;
  principal: string;
  state: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface Command extends CommandSummary {
  params: Record<string, string>;
  challenge: { nonce: string; expiresAtMs: number; managerExpiresAtMs?: number; approvalsRequired: number; approvers: string[]; requestDigest: string } | null;
  responseSent: boolean;
  approvals: { principal: string; keyId: string; custodial: boolean; atMs: number }[];
  result: { outcome: string; previousState: string; newState: string; errorCode: string; errorMessage: string; completedAtMs: number } | null;
  events: { atMs: number; kind: string; state: string; detail: string }[];
}

export interface QueueFigures {
  depth: number;
  usedBytes: number;
  capacityBytes: number;
}

export interface Host {
  id: string;
  bmc: { address: string; port: number; user: string; privilege: string; cipherSuites: number[] };
  hostPublicKey: string | null;
  link: {
    state: string;
    sinceMs: number | null;
    lastError: string | null;
    unacked: number;
    lastReceiveAtMs: number | null;
    queues: { atMs: number; toHost: QueueFigures; toManager: QueueFigures } | null;
    clockOffsetMs?: number | null;
  };
  status: { reportTimeMs: number; receivedAtMs: number; ageMs: number; reportSeq: number } | null;
}

export interface Domain {
  name: string;
  uuid: string;
  state: string;
  vcpus: number;
  memoryKib: number;
  maxMemoryKib: number;
  id: number;
}
