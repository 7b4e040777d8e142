/**
 * What the bmc-oem fuzz suites and benchmarks read about a running daemon
 * from outside: its Prometheus counters, its resident memory, the kernel's
 * drop counter of its UDP socket, fault lines in its log, and whether it
 * still serves a real client (vms-agent's RMCP+ client: Get Device ID and
 * an OEM Get Queue Info).
 */
import { readFileSync } from 'node:fs';
import { AppCommand, DEFAULT_OEM_IANA, encodeOemRequest, NetFn, OemCommand } from '@backchannel/proto';
import { openSession } from '@backchannel/vms-agent/rmcp';

/** GET /metrics as text. */
export async function scrapeMetrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** Sum of every sample of `name` (all label sets) whose labels contain `labelFilter` if given. */
export function metricSum(text: string, name: string, labelFilter?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labelFilter !== undefined && !(m[2] ?? '').includes(labelFilter)) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** Resident set size of a process in KiB (VmRSS from /proc/PID/status). */
export function vmRssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/**
 * Datagrams the kernel dropped at the IPv4 UDP socket bound to
 * 127.0.0.1:`port` (the last column of /proc/net/udp): a full receive
 * buffer. undefined when no such socket is listed.
 */
export function udpSocketDrops(port: number): number | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols[cols.length - 1]);
  }
  return undefined;
}

/** Log lines that mean a bug: pino error/fatal, or an uncaught exception or rejection printed by Node. */
export function faultLines(output: string): string[] {
  return output.split('\n').filter((line) => /"level":(5\d|60)\b/.test(line) || /uncaught|unhandled/i.test(line) || /^\s+at .+\(.+:\d+:\d+\)$/.test(line));
}

export interface AnswerCheck {
  deviceIdCc: number;
  queueInfoCc: number;
  /** Open attempts it took (the session table may still hold a flood's pending handshakes). */
  attempts: number;
}

/**
 * Opens a full vms-agent RMCP+ session (operator) and asks Get Device ID and
 * OEM Get Queue Info on queue 1. Retries opening until `deadlineMs` passes,
 * because after a flood of Open Session requests the BMC rightly refuses new
 * handshakes (status 0x01) until the flood's pending ones time out.
 */
export async function checkDaemonAnswers(o: { port: number; user: string; password: string; deadlineMs: number; iana?: number }): Promise<AnswerCheck> {
  const until = Date.now() + o.deadlineMs;
  let attempts = 0;
  let last: unknown;
  while (Date.now() < until) {
    attempts++;
    try {
      const session = await openSession({ host: '127.0.0.1', port: o.port, user: o.user, password: o.password, privilege: 'operator', cipherSuites: [17], keepAliveMs: 0, timeoutMs: 500, retries: 2 });
      try {
        const id = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID);
        const info = await session.request(NetFn.OEM_GROUP, OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana: o.iana ?? DEFAULT_OEM_IANA, queue: 1 }));
        return { deviceIdCc: id.cc, queueInfoCc: info.cc, attempts };
      } finally {
        await session.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`bmc-oem did not serve a client session within ${o.deadlineMs} ms (${attempts} attempts): ${String(last)}`);
}
