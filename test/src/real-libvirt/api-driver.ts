/**
 * What the real-libvirt suite and bench do at vms-agent's API: issue an action
 * (alice, custodial: vms-agent signs the challenge), wait for its final state,
 * read the host's domains and status-report sequence, count alerts.
 */
import type { VmsAgentStack } from '../vms-agent-e2e/stack.js';

export interface CommandView {
  id: string;
  state: string;
  createdAtMs: number;
  updatedAtMs: number;
  result: {
    outcome: string;
    previousState: string;
    newState: string;
    errorCode: string;
    errorMessage: string;
    completedAtMs: number;
    domainName: string;
    domainUuid: string;
    stopMethod: string;
    detail: string;
    durationMs: number;
  } | null;
  events: { atMs: number; kind: string; state: string; detail: string }[];
}

export interface DomainView {
  name: string;
  uuid: string;
  state: string;
  id: number;
}

const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);

export async function issue(stack: VmsAgentStack, domain: string, action: string, params?: Record<string, string>): Promise<CommandView> {
  const r = await stack.api<CommandView>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, 'alice', { action, ...(params ? { params } : {}) });
  if (r.status !== 202) throw new Error(`POST ${action} ${domain}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

export function waitFinal(stack: VmsAgentStack, id: string, timeoutMs = 120_000): Promise<CommandView> {
  return stack.waitCommand<CommandView>(id, (c) => FINAL.has(c.state), timeoutMs);
}

/** Issues the action and waits for its final state. */
export async function run(stack: VmsAgentStack, domain: string, action: string, params?: Record<string, string>): Promise<CommandView> {
  return waitFinal(stack, (await issue(stack, domain, action, params)).id);
}

export async function apiDomains(stack: VmsAgentStack): Promise<{ domains: DomainView[]; ageMs: number }> {
  const r = await stack.api<{ domains: DomainView[]; ageMs: number }>('GET', '/v1/hosts/hv-01/domains', 'alice');
  return { domains: r.json.domains ?? [], ageMs: r.json.ageMs };
}

export async function apiDomain(stack: VmsAgentStack, name: string): Promise<DomainView | undefined> {
  return (await apiDomains(stack)).domains.find((d) => d.name === name);
}

/** The sequence number of the host's latest status report at the API. */
export async function reportSeq(stack: VmsAgentStack): Promise<number> {
  const r = await stack.api<{ hosts: { status: { reportSeq: number } | null }[] }>('GET', '/v1/hosts', 'alice');
  return r.json.hosts[0]?.status?.reportSeq ?? 0;
}

/** Every alert vms-agent holds (the security team's view). */
export async function alertCount(stack: VmsAgentStack): Promise<{ count: number; kinds: string[] }> {
  const r = await stack.api<{ alerts: { kind: string; reason: string }[] }>('GET', '/v1/alerts?limit=1000', 'sec');
  return { count: r.json.alerts.length, kinds: r.json.alerts.map((a) => `${a.kind}: ${a.reason}`) };
}

/** Polls the API until `name` shows `state` (or 'absent'); returns when it did (Date.now()). */
export async function waitApiState(stack: VmsAgentStack, name: string, state: string, timeoutMs = 30_000, pollMs = 25): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await apiDomain(stack, name);
    if ((d?.state ?? 'absent') === state) return Date.now();
    if (Date.now() > deadline) throw new Error(`${name} never showed ${state} at the API (last: ${d?.state ?? 'absent'})`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
