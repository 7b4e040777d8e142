/**
 * Child processes a test or the demo starts: output captured, readiness
 * awaited (a line matching a pattern), stopped by PID with SIGTERM and, if
 * it lingers, SIGKILL. Every process started here is registered so a test's
 * cleanup (or the demo's exit handler) can end exactly the ones it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const running = new Set<ManagedProcess>();

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves start() once a stdout/stderr line matches. */
  readyWhen?: RegExp;
  readyTimeoutMs?: number;
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  #output = '';
  #exit: Promise<number | null>;
  #exited = false;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.#output += chunk.toString();
      if (this.#output.length > 2_000_000) this.#output = this.#output.slice(-1_000_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#exited = true;
        running.delete(this);
        resolve(code ?? (signal ? 128 : null));
      }),
    );
  }

  static async start(options: StartOptions): Promise<ManagedProcess> {
    const child = spawn(options.command, options.args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ManagedProcess(options.name, child);
    running.add(proc);
    if (options.readyWhen) {
      try {
        await proc.waitFor(options.readyWhen, options.readyTimeoutMs ?? 20_000);
      } catch (err) {
        // The caller gets no handle to stop a process that never became ready, so stop it here;
        // otherwise it outlives the failed start and keeps writing into the caller's temp dir.
        if (proc.child.pid !== undefined) await proc.stop(2000);
        throw err;
      }
    }
    return proc;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get output(): string {
    return this.#output;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Waits for a line of output matching `pattern`; fails if the process exits or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = this.#output.match(pattern);
      if (match) return match;
      if (this.#exited) throw new Error(`${this.name} exited before ${pattern}:\n${this.#output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${this.name}: no ${pattern} within ${timeoutMs} ms:\n${this.#output.slice(-4000)}`);
  }

  waitForExit(): Promise<number | null> {
    return this.#exit;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Returns the exit code. */
  async stop(graceMs = 5000): Promise<number | null> {
    if (this.#exited) return this.#exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.#exit;
    clearTimeout(timer);
    return code;
  }

  /** kill -9: the crash a fault test wants. */
  async crash(): Promise<void> {
    if (this.#exited) return;
    this.child.kill('SIGKILL');
    await this.#exit;
  }
}

/** Stops every process started through ManagedProcess that is still running. */
export async function stopAllManaged(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(2000)));
}
