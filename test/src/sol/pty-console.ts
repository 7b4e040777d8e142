/**
 * Runs an interactive console program (ipmitool sol activate, ipmiconsole)
 * under a pseudo-terminal, as a person would, through python3's pty module:
 * the test writes keystrokes and waits for output.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const RELAY = `
import os, pty, select, signal, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
while True:
    r, _, _ = select.select([fd, 0], [], [], 0.5)
    if fd in r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        os.write(1, d)
    if 0 in r:
        d = os.read(0, 4096)
        if not d:
            os.kill(pid, signal.SIGTERM)
            break
        os.write(fd, d)
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
`;

export class PtyConsole {
  readonly #proc: ChildProcess;
  #out = '';
  #exit: Promise<number | null>;

  constructor(command: string, args: string[]) {
    this.#proc = spawn('python3', ['-c', RELAY, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stdout!.on('data', (b: Buffer) => (this.#out += b.toString('latin1')));
    this.#proc.stderr!.on('data', (b: Buffer) => (this.#out += b.toString('latin1')));
    this.#exit = new Promise((resolve) => this.#proc.on('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.#out;
  }

  type(text: string): void {
    this.#proc.stdin!.write(text);
  }

  /** Waits (polling, bounded) until the output matches. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.#out);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in console output:\n${this.#out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with the exit code, or kills (by PID) after `timeoutMs`. */
  async exited(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const r = await Promise.race([this.#exit, killed]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.#proc.kill('SIGKILL');
      return this.#exit;
    }
    return r;
  }
}
