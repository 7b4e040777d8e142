/**
 * The hypervisor-agent's "applying action" log lines, kept per process
 * incarnation and in order. The agent writes that line (pino, synchronous)
 * after it journaled the request as `applying` and before it calls libvirt,
 * so each line is one libvirt application. Applications on different
 * domains run concurrently (the agent's ActionRunner), so lines are in
 * start order, and completions may interleave across domains. Lines are collected from the
 * child's pipes as they come (not from ManagedProcess's capped buffer), so
 * a long run loses none.
 */
import type { ManagedProcess } from '../harness/managed-process.js';

export interface ApplyLine {
  incarnation: number;
  /** Position among all lines of all incarnations. */
  order: number;
  requestId: string;
  action: string;
  domain: string;
  principal: string;
  /** The agent's clock when it wrote the line (pino's `time`): the application started no earlier. */
  startedAtMs: number;
}

export class ApplyLog {
  readonly lines: ApplyLine[] = [];
  #incarnations = 0;

  get incarnations(): number {
    return this.#incarnations;
  }

  /** Follows one hypervisor-agent process from now on; what it wrote so far is read from its output buffer first. */
  follow(proc: ManagedProcess): void {
    const incarnation = this.#incarnations++;
    let pending = proc.output;
    const take = (final: boolean) => {
      const parts = pending.split('\n');
      pending = final ? '' : parts.pop()!;
      for (const line of parts) this.#line(incarnation, line);
    };
    take(false);
    // stdout only: pino writes there; the buffer above already held both pipes.
    proc.child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      take(false);
    });
    proc.child.stdout?.once('end', () => take(true));
  }

  #line(incarnation: number, line: string): void {
    if (!line.includes('"msg":"applying action"')) return;
    let parsed: { requestId?: string; action?: string; domain?: string; principal?: string; time?: number };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return; // a line torn by kill -9 is not a complete record of anything
    }
    this.lines.push({
      incarnation,
      order: this.lines.length,
      requestId: parsed.requestId ?? '',
      action: parsed.action ?? '',
      domain: parsed.domain ?? '',
      principal: parsed.principal ?? '',
      startedAtMs: parsed.time ?? 0,
    });
  }
}
