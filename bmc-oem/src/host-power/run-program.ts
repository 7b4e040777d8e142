/**
 * Runs a configured program without a shell, with a time limit, and turns
 * every way it can fail into a HostPowerError whose message says what ran,
 * how it ended and what it printed on stderr.
 */
import { spawn } from 'node:child_process';

export class HostPowerError extends Error {
  constructor(
    readonly code: 'timeout' | 'failed' | 'not-found' | 'bad-output' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'HostPowerError';
  }
}

export interface ProgramResult {
  stdout: string;
  stderr: string;
}

/** Longest output kept from a program; a runaway one is cut off, not buffered without bound. */
const MAX_OUTPUT = 64 * 1024;

export function runProgram(argv: readonly string[], timeoutMs: number, env?: Readonly<Record<string, string>>): Promise<ProgramResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new HostPowerError('failed', 'no program configured'));
  const shown = argv.join(' ');
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout kills the program and anything it started (a shell script's `sleep`, say).
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(env === undefined ? {} : { env: { ...process.env, ...env } }) });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new HostPowerError(err.code === 'ENOENT' || err.code === 'EACCES' ? 'not-found' : 'failed', `cannot run "${shown}": ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = stderr.trim() === '' ? '' : `: ${stderr.trim().slice(0, 500)}`;
      if (timedOut) reject(new HostPowerError('timeout', `"${shown}" did not finish within ${timeoutMs} ms and was killed${tail}`));
      else if (code !== 0) reject(new HostPowerError('failed', `"${shown}" exited with ${code === null ? `signal ${signal}` : `status ${code}`}${tail}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Splits a configured command into words (spaces separate; no shell, no quoting). */
export function commandWords(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? command.trim().split(/\s+/).filter((w) => w !== '') : [...command];
}
