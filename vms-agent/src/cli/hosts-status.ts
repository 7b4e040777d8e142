/**
 * `vms-agent hosts status [HOST] [--wait SECONDS]`: what the running service
 * knows about each host's link, from GET /v1/hosts (unlike `hosts list`,
 * which reads the inventory from the local store): link state and since
 * when, the last error, messages not yet acknowledged, both BMC queues'
 * depths, the age of the last status report, and the clock offset to the
 * hypervisor when the link has measured one.
 *
 * With --wait it returns once the link is up and a status report has
 * arrived (for HOST, or for every host): what a script does after
 * `systemctl start` before its first command.
 */
import type { Static } from '@fastify/type-provider-typebox';
import type { Host } from '../api/schemas.js';
import { ApiClient } from './api-client.js';
import { parse, str } from './args.js';
import { CliError, EXIT, usage } from './cli-error.js';
import { ago, emit, stdoutOut, table } from './output.js';

type HostJson = Static<typeof Host>;

/** The clock offset is added to GET /v1/hosts by the link core; shown when the service reports it. */
type WithClock = { clockOffsetMs?: number | null; link: { clockOffsetMs?: number | null } };

export function clockOffsetOf(h: HostJson): number | null {
  const c = h as HostJson & WithClock;
  return c.link.clockOffsetMs ?? c.clockOffsetMs ?? null;
}

function offsetText(ms: number | null): string {
  if (ms === null) return '-';
  const sign = ms > 0 ? '+' : ms < 0 ? '-' : '±';
  const abs = Math.abs(ms);
  return abs < 1000 ? `${sign}${abs}ms` : `${sign}${(abs / 1000).toFixed(1)}s`;
}

function queueText(h: HostJson): [string, string] {
  const q = h.link.queues;
  if (!q) return ['-', '-'];
  return [`${q.toHost.depth} (${q.toHost.usedBytes}B)`, `${q.toManager.depth} (${q.toManager.usedBytes}B)`];
}

export function hostsStatusTable(hosts: HostJson[], nowMs: number): string {
  if (hosts.length === 0) return 'no hosts; add one with: vms-agent hosts add HOST --bmc ADDRESS[:PORT] --user USER --password-file FILE';
  const rows = hosts.map((h) => {
    const [q1, q2] = queueText(h);
    const since = h.link.sinceMs === null ? '' : ` ${ago(Math.max(0, nowMs - h.link.sinceMs))}`;
    return [h.id, `${h.link.state}${since}`, h.link.unacked, q1, q2, h.status ? `${ago(h.status.ageMs)} ago` : 'none yet', offsetText(clockOffsetOf(h)), h.link.lastError ?? ''];
  });
  return table(rows, ['HOST', 'LINK', 'UNACKED', 'QUEUE-TO-HOST', 'QUEUE-TO-MANAGER', 'LAST-REPORT', 'CLOCK-OFFSET', 'LAST-ERROR']);
}

const ready = (h: HostJson): boolean => h.link.state === 'up' && h.status !== null;

export async function hostsStatus(argv: string[]): Promise<number> {
  const p = parse(argv, { wait: { type: 'string' } });
  const out = stdoutOut(p.json);
  const c = p.config();
  const api = new ApiClient(c.url, c.token);
  const only = p.positionals[0];
  const waitText = str(p, 'wait');
  const waitMs = waitText === undefined ? 0 : Number(waitText) * 1000;
  if (waitText !== undefined && !(waitMs > 0)) throw usage('--wait is seconds, > 0');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const all = (await api.request<{ hosts: HostJson[] }>('GET', '/v1/hosts')).hosts;
    const hosts = only ? all.filter((h) => h.id === only) : all;
    if (only && hosts.length === 0) throw new CliError(EXIT.notFound, 'HOST_NOT_FOUND', `no host ${only}; list them with: vms-agent hosts status`);
    const done = hosts.length > 0 && hosts.every(ready);
    if (waitMs === 0 || done) {
      emit(out, { hosts }, () => hostsStatusTable(hosts, Date.now()));
      return EXIT.ok;
    }
    if (Date.now() >= deadline) {
      emit(out, { hosts }, () => hostsStatusTable(hosts, Date.now()));
      const late = hosts.filter((h) => !ready(h)).map((h) => h.id);
      throw new CliError(EXIT.expired, 'WAIT_TIMEOUT', `after ${waitText} s, ${late.length ? late.join(', ') : 'no host'} still ${late.length === 1 ? 'has' : 'have'} no link up with a status report`);
    }
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(1, deadline - Date.now()))));
  }
}
