/** Commands that talk to a running `vms-agent serve` over the REST API. */
import { readFileSync } from 'node:fs';
import { bytesEqual, decodeSecretKey, keyId, parseActionName, requestDigest, signChallenge } from '@backchannel/proto';
import type { CommandJson, CommandSummaryJson } from '../api/schemas.js';
import { ApiClient, newIdempotencyKey } from './api-client.js';
import { type Parsed, need, parse, str } from './args.js';
import { CliError, EXIT, usage } from './cli-error.js';
import { ago, emit, iso, type Out, stdoutOut, table } from './output.js';

const FINAL: Record<string, number> = { applied: EXIT.ok, failed: EXIT.failed, denied: EXIT.denied, expired: EXIT.expired };
const VM_ACTIONS = ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume'];

function client(p: Parsed): ApiClient {
  const c = p.config();
  return new ApiClient(c.url, c.token);
}

export function describeCommand(c: CommandJson): string {
  const lines = [`command ${c.id}: ${c.action} ${c.domain} on ${c.hostId} by ${c.principal} — ${c.state}`];
  if (c.challenge) {
    lines.push(`challenge: ${c.challenge.approvalsRequired} approval(s) from ${c.challenge.approvers.length ? c.challenge.approvers.join(', ') : c.principal}, expires ${iso(c.challenge.managerExpiresAtMs ?? c.challenge.expiresAtMs)}${c.responseSent ? ', answered' : ''}`);
  }
  for (const a of c.approvals) lines.push(`  approved by ${a.principal} (${a.custodial ? 'custodial key' : `key ${a.keyId}`}) at ${iso(a.atMs)}`);
  if (c.result) {
    lines.push(`result: ${c.result.outcome}${c.result.newState !== 'nostate' ? `, ${c.result.previousState} → ${c.result.newState}` : ''}${c.result.errorCode ? ` (${c.result.errorCode}: ${c.result.errorMessage})` : ''}`);
    for (const d of c.result.domains) lines.push(`  ${d.name}: ${d.state}`);
  }
  lines.push('events:');
  for (const e of c.events) lines.push(`  ${iso(e.atMs)}  ${e.state.padEnd(17)}  ${e.detail}`);
  return lines.join('\n');
}

/** Default for --timeout: how long --wait follows a command before giving up (exit 7; the command goes on). */
export const DEFAULT_WAIT_SECONDS = 120;

/**
 * Follows a command until it is final or awaits approval. Awaiting approval
 * only a person changes, so the wait ends there (exit 9) unless a key file
 * was given, which signs the challenge on this machine and goes on waiting.
 */
async function waitFor(api: ApiClient, first: CommandJson, timeoutMs: number, out: Out, keyFile: string | undefined): Promise<CommandJson> {
  const deadline = Date.now() + timeoutMs;
  let c = first;
  let signed = false;
  for (;;) {
    if (c.state in FINAL) return c;
    // Every signature collected: the response is on its way to the hypervisor, so the command moves on by itself.
    const answered = c.state === 'awaiting_approval' && c.responseSent;
    if (c.state === 'awaiting_approval' && !answered) {
      if (!keyFile || signed) return c;
      c = await signChallengeWith(api, c, keyFile, out);
      signed = true;
      continue;
    }
    if (Date.now() >= deadline) throw new CliError(EXIT.expired, 'WAIT_TIMEOUT', `command ${c.id} is still ${c.state} after ${Math.round(timeoutMs / 1000)} s; check later with: vms-agent commands show ${c.id}`);
    // Long-poll (?wait): the server answers as soon as the command is final or awaits approval,
    // so an answered command awaiting its result is looked at every 250 ms instead.
    const wait = answered ? 0 : Math.max(1, Math.min(deadline - Date.now(), 10_000));
    const before = c.state;
    c = await api.request<CommandJson>('GET', `/v1/commands/${encodeURIComponent(c.id)}${wait > 0 ? `?wait=${wait}` : ''}`);
    if (c.state === before && !(c.state in FINAL)) await new Promise((r) => setTimeout(r, answered ? 250 : 100));
  }
}

/** What --wait prints and returns when the command is not final yet but awaits someone's approval. */
function awaitingApproval(out: Out, c: CommandJson): number {
  emit(out, c, () => `${describeCommand(c)}\nawaiting approval: vms-agent approve ${c.id} --key FILE (operator-held key) or vms-agent approve ${c.id} (custodial key)`);
  return EXIT.awaitingApproval;
}

/**
 * Signs a command's challenge with a key file on this machine and posts the
 * signature. Before signing it recomputes the request digest from the
 * request shown, so what the operator sees is what the signature binds.
 */
async function signChallengeWith(api: ApiClient, c: CommandJson, keyFile: string, out: Out): Promise<CommandJson> {
  if (c.state !== 'awaiting_approval' || !c.challenge) {
    throw new CliError(EXIT.conflict, 'NOT_AWAITING_APPROVAL', `command ${c.id} is ${c.state}; only a command awaiting approval can be approved`);
  }
  const pair = decodeSecretKey(readFileSync(keyFile, 'utf8'));
  const r = c.request;
  const action = parseActionName(r.action);
  const digest = requestDigest({ requestId: r.requestId, hostId: r.hostId, principal: r.principal, action: action ?? 0, domain: r.domain, parameters: r.parameters, issuedAtMs: r.issuedAtMs });
  const ch = c.challenge;
  if (!bytesEqual(digest, new Uint8Array(Buffer.from(ch.requestDigest, 'base64'))) || ch.requestId !== r.requestId || ch.hostId !== r.hostId) {
    throw new CliError(EXIT.failed, 'DIGEST_MISMATCH', 'the challenge does not belong to the request shown: refusing to sign (the server may be compromised)');
  }
  // Compared on vms-agent's clock: the challenge's own expiry is the hypervisor's, which may be minutes off.
  const expiresAt = ch.managerExpiresAtMs ?? ch.expiresAtMs;
  if (Date.now() >= expiresAt) throw new CliError(EXIT.expired, 'CHALLENGE_EXPIRED', `the challenge expired at ${iso(expiresAt)}; issue the command again`);
  const sig = signChallenge({ requestId: ch.requestId, hostId: ch.hostId, nonce: new Uint8Array(Buffer.from(ch.nonce, 'base64')), expiresAtMs: ch.expiresAtMs, requestDigest: digest }, pair);
  if (!out.json) out.write(`signing: ${r.action} ${r.domain} on ${r.hostId}, requested by ${r.principal} (key ${keyId(pair.publicKey)})`);
  return api.request<CommandJson>('POST', `/v1/commands/${encodeURIComponent(c.id)}/approvals`, { signature: Buffer.from(sig.signature!).toString('base64'), keyId: sig.keyId }, { idempotencyKey: newIdempotencyKey() });
}

function waitTimeoutMs(p: Parsed): number {
  const timeout = Number(str(p, 'timeout') ?? DEFAULT_WAIT_SECONDS) * 1000;
  if (!(timeout > 0)) throw usage('--timeout is seconds, > 0');
  return timeout;
}

/** The exit code of a command --wait followed: its final state's, or 9 when it awaits approval. */
function settle(out: Out, c: CommandJson): number {
  if (c.state === 'awaiting_approval') return awaitingApproval(out, c);
  emit(out, c, () => describeCommand(c));
  return FINAL[c.state] ?? EXIT.failed;
}

export async function vm(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parse(rest, { wait: { type: 'boolean' }, timeout: { type: 'string' }, key: { type: 'string' }, param: { type: 'string', multiple: true } });
  const out = stdoutOut(p.json);
  const api = client(p);
  if (sub === 'list') {
    const host = need(p, 0, 'HOST');
    const d = await api.request<{ reportTimeMs: number; ageMs: number; domains: { name: string; state: string; vcpus: number; memoryKib: number; id: number }[] }>('GET', `/v1/hosts/${encodeURIComponent(host)}/domains`);
    emit(out, d, () => `${table(d.domains.map((x) => [x.name, x.state, x.vcpus, Math.round(x.memoryKib / 1024), x.id >= 0 ? x.id : '-']), ['DOMAIN', 'STATE', 'VCPUS', 'MEM-MIB', 'ID'])}\n(as of status report ${ago(d.ageMs)} ago)`);
    return EXIT.ok;
  }
  if (!sub || !VM_ACTIONS.includes(sub) || parseActionName(sub) === undefined) throw usage(`vm ${sub ?? ''}: use list HOST, or ${VM_ACTIONS.join('|')} HOST DOMAIN [--wait [--timeout S] [--key FILE]]`);
  const host = need(p, 0, 'HOST');
  const domain = need(p, 1, 'DOMAIN');
  const params: Record<string, string> = {};
  for (const kv of (p.values.param as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i < 1) throw usage(`--param must be KEY=VALUE, got "${kv}"`);
    params[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const keyFile = str(p, 'key');
  if (keyFile && !p.values.wait) throw usage('--key signs the challenge while waiting: use it with --wait');
  const timeout = p.values.wait ? waitTimeoutMs(p) : 0;
  const started = Date.now();
  // With --wait the POST itself long-polls (?wait), so a command that settles quickly takes one request.
  const firstWait = p.values.wait ? Math.min(timeout, 10_000) : 0;
  const path = `/v1/hosts/${encodeURIComponent(host)}/domains/${encodeURIComponent(domain)}/actions${firstWait > 0 ? `?wait=${firstWait}` : ''}`;
  // One key per invocation: the client retries this POST on connection errors, and the key makes a retry return the first command.
  const c = await api.request<CommandJson>('POST', path, { action: sub, params }, { idempotencyKey: newIdempotencyKey() });
  if (!p.values.wait) {
    emit(out, c, () => `command ${c.id} ${c.state}; follow it with: vms-agent commands show ${c.id}`);
    return EXIT.ok;
  }
  return settle(out, await waitFor(api, c, Math.max(1, timeout - (Date.now() - started)), out, keyFile));
}

export async function commands(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parse(rest, { host: { type: 'string' }, state: { type: 'string' } });
  const out = stdoutOut(p.json);
  const api = client(p);
  if (sub === 'show') {
    const c = await api.request<CommandJson>('GET', `/v1/commands/${encodeURIComponent(need(p, 0, 'command ID'))}`);
    emit(out, c, () => describeCommand(c));
    return EXIT.ok;
  }
  if (sub === 'list') {
    const q = new URLSearchParams();
    if (str(p, 'host')) q.set('host', str(p, 'host')!);
    if (str(p, 'state')) q.set('state', str(p, 'state')!);
    const r = await api.request<{ commands: CommandSummaryJson[] }>('GET', `/v1/commands?${q.toString()}`);
    emit(out, r, () => table(r.commands.map((c) => [c.id, c.hostId, c.domain, c.action, c.principal, c.state]), ['ID', 'HOST', 'DOMAIN', 'ACTION', 'PRINCIPAL', 'STATE']));
    return EXIT.ok;
  }
  throw usage(`commands ${sub ?? ''}: use show ID or list [--host H] [--state S]`);
}

/** `approve ID [--key FILE] [--wait]`: sign here with an operator-held key, or with the caller's custodial key. */
export async function approve(argv: string[]): Promise<number> {
  const p = parse(argv, { key: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } });
  const out = stdoutOut(p.json);
  const id = need(p, 0, 'command ID');
  const keyFile = str(p, 'key');
  const timeout = p.values.wait ? waitTimeoutMs(p) : 0;
  const api = client(p);
  const c = await api.request<CommandJson>('GET', `/v1/commands/${encodeURIComponent(id)}`);
  if (c.state !== 'awaiting_approval' || !c.challenge) {
    throw new CliError(EXIT.conflict, 'NOT_AWAITING_APPROVAL', `command ${id} is ${c.state}; only a command awaiting approval can be approved`);
  }
  const after = keyFile ? await signChallengeWith(api, c, keyFile, out) : await api.request<CommandJson>('POST', `/v1/commands/${encodeURIComponent(id)}/approvals`, {}, { idempotencyKey: newIdempotencyKey() });
  if (p.values.wait) return settle(out, await waitFor(api, after, timeout, out, undefined));
  const how = keyFile ? '' : ' with your custodial key';
  emit(out, after, () => `approved ${id}${how}; ${after.responseSent ? 'challenge response queued' : `${after.approvals.length} of ${c.challenge!.approvalsRequired} approvals`}`);
  return EXIT.ok;
}

export async function alerts(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parse(rest, { host: { type: 'string' }, kind: { type: 'string' }, principal: { type: 'string' }, since: { type: 'string' }, unacked: { type: 'boolean' }, limit: { type: 'string' }, comment: { type: 'string' } });
  const out = stdoutOut(p.json);
  const api = client(p);
  if (sub === 'ack') {
    const id = need(p, 0, 'alert ID');
    const comment = str(p, 'comment');
    if (!comment?.trim()) throw usage('alerts ack ID needs --comment TEXT (why the alert is benign, or what was done); it is recorded with who and when');
    const a = await api.request<{ id: number; acknowledgedBy: string; acknowledgedAtMs: number; acknowledgedComment: string }>('POST', `/v1/alerts/${encodeURIComponent(id)}/ack`, { comment });
    emit(out, a, () => `alert ${a.id} acknowledged by ${a.acknowledgedBy} at ${iso(a.acknowledgedAtMs)}: ${a.acknowledgedComment}`);
    return EXIT.ok;
  }
  if (sub !== 'list') throw usage(`alerts ${sub ?? ''}: use list [--host H] [--kind K] [--principal P] [--since TIME] [--unacked], or ack ID --comment TEXT`);
  const q = new URLSearchParams();
  for (const k of ['host', 'kind', 'principal', 'limit']) if (str(p, k)) q.set(k, str(p, k)!);
  const since = str(p, 'since');
  if (since) {
    const ms = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
    if (!Number.isFinite(ms)) throw usage('--since is Unix ms or an ISO date');
    q.set('since', String(ms));
  }
  if (p.values.unacked) q.set('acknowledged', 'false');
  const r = await api.request<{ alerts: { id: number; hostId: string; kind: string; principal: string; action: string; domain: string; reason: string; receivedAtMs: number; signatureStatus: string; acknowledged: boolean }[] }>('GET', `/v1/alerts?${q.toString()}`);
  emit(out, r, () =>
    r.alerts.length === 0 ? 'no alerts' : table(r.alerts.map((a) => [a.id, iso(a.receivedAtMs), a.hostId, a.kind, a.principal, `${a.action} ${a.domain}`, a.signatureStatus, a.acknowledged ? 'yes' : 'no', a.reason]), ['ID', 'RECEIVED', 'HOST', 'KIND', 'PRINCIPAL', 'WHAT', 'SIGNATURE', 'ACKED', 'REASON']),
  );
  return EXIT.ok;
}
