/**
 * Issues scripted commands through vms-agent's REST API and follows each to
 * a final state, riding out vms-agent being killed and restarted on a new
 * port: a refused connection is retried (nothing reached the server); a
 * POST whose answer was lost otherwise is counted as uncertain (the command
 * may exist; the checks reconcile against the store). Every answer is
 * compared with what was asked.
 */
import type { CommandJson } from '@backchannel/vms-agent';
import type { VmsAgentStack } from '../vms-agent-e2e/stack.js';
import type { ScriptedCommand } from './command-script.js';
import { FINAL_STATES } from './invariants.js';

type Attempt<T> = { ok: true; value: T } | { ok: false; refused: boolean; message: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ApiDriver {
  readonly accepted = new Set<string>();
  readonly violations: string[] = [];
  uncertainPosts = 0;
  /** Set when the run is abandoned (a process would not restart): every loop ends. */
  aborted = false;
  issued = 0;
  finished = 0;
  readonly #stack: VmsAgentStack;
  readonly #hostId: string;

  constructor(stack: VmsAgentStack, hostId: string) {
    this.#stack = stack;
    this.#hostId = hostId;
  }

  async #call<T>(method: 'GET' | 'POST', path: string, as: string, body?: unknown, timeoutMs = 30_000): Promise<Attempt<{ status: number; json: T }>> {
    const url = this.#stack.url;
    try {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${this.#stack.tokens[as]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { ok: true, value: { status: res.status, json: (await res.json()) as T } };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return { ok: false, refused: cause?.code === 'ECONNREFUSED', message: `${(err as Error).message}${cause?.code ? ` (${cause.code})` : ''}` };
    }
  }

  /** POSTs the command; its id once the API accepted it, undefined when the answer was lost or refused. */
  async issue(cmd: ScriptedCommand, deadline: number): Promise<string | undefined> {
    this.issued++;
    const path = `/v1/hosts/${this.#hostId}/domains/${cmd.domain}/actions`;
    while (Date.now() < deadline && !this.aborted) {
      const a = await this.#call<CommandJson>('POST', path, cmd.principal, { action: cmd.action });
      if (!a.ok) {
        if (a.refused) {
          await sleep(100); // vms-agent is down or restarting: the request never reached it
          continue;
        }
        this.uncertainPosts++;
        return undefined;
      }
      const { status, json } = a.value;
      if (status !== 202) {
        this.violations.push(`POST ${cmd.action} ${cmd.domain} as ${cmd.principal}: HTTP ${status} ${JSON.stringify(json)}`);
        return undefined;
      }
      if (json.action !== cmd.action || json.domain !== cmd.domain || json.principal !== cmd.principal || json.hostId !== this.#hostId) {
        this.violations.push(`POST ${cmd.action} ${cmd.domain} as ${cmd.principal} answered with ${json.action} ${json.domain} ${json.principal}`);
      }
      this.accepted.add(json.id);
      return json.id;
    }
    this.violations.push(`POST ${cmd.action} ${cmd.domain}: vms-agent never accepted a connection before the deadline`);
    return undefined;
  }

  /** Long-polls the command until it is final; undefined (and a violation) if it is not by `deadline`. */
  async waitFinal(id: string, cmd: Pick<ScriptedCommand, 'action' | 'domain' | 'principal'>, deadline: number): Promise<CommandJson | undefined> {
    let last = 'unknown';
    while (Date.now() < deadline && !this.aborted) {
      const wait = Math.max(0, Math.min(5_000, deadline - Date.now()));
      const a = await this.#call<CommandJson>('GET', `/v1/commands/${id}?wait=${wait}`, 'alice', undefined, wait + 10_000);
      if (!a.ok) {
        await sleep(100);
        continue;
      }
      const c = a.value.json;
      if (a.value.status !== 200) {
        this.violations.push(`GET command ${id}: HTTP ${a.value.status} ${JSON.stringify(c)}`);
        return undefined;
      }
      last = c.state;
      if (!FINAL_STATES.has(c.state)) continue;
      this.finished++;
      this.#compare(id, cmd, c);
      return c;
    }
    this.violations.push(`command ${id} (${cmd.action} ${cmd.domain}): still ${last} at its deadline (hung)`);
    return undefined;
  }

  #compare(id: string, cmd: Pick<ScriptedCommand, 'action' | 'domain' | 'principal'>, c: CommandJson): void {
    const r = c.request;
    if (c.id !== id || r.requestId !== id || c.action !== cmd.action || r.action !== cmd.action || c.domain !== cmd.domain || r.domain !== cmd.domain || r.principal !== cmd.principal) {
      this.violations.push(`command ${id}: the API shows ${JSON.stringify({ id: c.id, action: c.action, domain: c.domain, request: r })} for ${cmd.principal} ${cmd.action} ${cmd.domain}`);
    }
    if (!c.result) {
      if (c.state !== 'expired') this.violations.push(`command ${id}: ${c.state} without a result`);
      return;
    }
    if (c.result.outcome !== c.state) this.violations.push(`command ${id}: state ${c.state}, result outcome ${c.result.outcome}`);
    if (c.action === 'domain_info' && c.state === 'applied' && c.result.domainInfo?.name !== cmd.domain) this.violations.push(`command ${id}: domain_info for ${cmd.domain} answered ${c.result.domainInfo?.name}`);
  }

  /** GET with retries across vms-agent restarts (for the end of the run). */
  async get<T>(path: string, deadline: number): Promise<{ status: number; json: T }> {
    while (Date.now() < deadline) {
      const a = await this.#call<T>('GET', path, 'alice');
      if (a.ok) return a.value;
      await sleep(200);
    }
    throw new Error(`GET ${path}: vms-agent unreachable`);
  }
}
