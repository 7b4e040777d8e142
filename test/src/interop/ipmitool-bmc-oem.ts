/**
 * Starts the real bmc-oem daemon (its built bin) on 127.0.0.1 with users
 * whose passwords sit in 0600 files in a temporary directory, for suites
 * that drive it with stock tools. The RMCP+ port is bound as port 0 by the
 * daemon itself and read back from its "listening" log line, so there is no
 * window in which another process could take a port picked in advance.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '../harness/managed-process.js';

/** The bmc-oem executable in the monorepo (test/{src,dist}/interop → bmc-oem/dist). */
export const BMC_OEM_MAIN = fileURLToPath(new URL('../../../bmc-oem/dist/main.js', import.meta.url));

export interface BmcOemUser {
  name: string;
  privilege: 'user' | 'operator' | 'administrator';
  password: string;
}

export interface BmcOemInstance {
  proc: ManagedProcess;
  pid: number;
  port: number;
  /** The /metrics port when started with `--metrics 127.0.0.1:0`. */
  metricsPort?: number;
  dir: string;
  passwordFile(user: string): string;
  /** SIGTERM by PID; resolves with the exit code. Removes the temp dir. */
  stop(): Promise<number | null>;
}

/**
 * `extraArgs` may be a function of the instance's temporary directory, for
 * arguments that name files in it (a state directory, a power program).
 */
export async function startBmcOem(users: BmcOemUser[], extraArgs: string[] | ((dir: string) => string[]) = []): Promise<BmcOemInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'bmc-oem-interop-'));
  const files = new Map<string, string>();
  const args = [BMC_OEM_MAIN, '--listen', '127.0.0.1:0', '--log-level', 'info'];
  for (const u of users) {
    const file = join(dir, `${u.name}.pw`);
    writeFileSync(file, `${u.password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    files.set(u.name, file);
    args.push('--user', `${u.name}:${u.privilege}:${file}`);
  }
  args.push(...(typeof extraArgs === 'function' ? extraArgs(dir) : extraArgs));
  let proc: ManagedProcess;
  try {
    proc = await ManagedProcess.start({ name: 'bmc-oem', command: process.execPath, args, readyWhen: /"rmcp":"127\.0\.0\.1:(\d+)"/, readyTimeoutMs: 20_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const match = await proc.waitFor(/"rmcp":"127\.0\.0\.1:(\d+)"/, 1000);
  const port = Number(match[1]);
  const metrics = /"metrics":"127\.0\.0\.1:(\d+)"/.exec(proc.output);
  return {
    proc,
    pid: proc.pid,
    port,
    ...(metrics ? { metricsPort: Number(metrics[1]) } : {}),
    dir,
    passwordFile(user: string): string {
      const f = files.get(user);
      if (f !== undefined) return f;
      // A password file for a name the daemon does not know (negative tests).
      const extra = join(dir, `${user}.pw`);
      writeFileSync(extra, 'not-configured\n', { mode: 0o600 });
      return extra;
    },
    async stop() {
      const code = await proc.stop(5000);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Writes `password` to a fresh 0600 file in `dir` (for wrong-password tests). */
export function writePasswordFile(dir: string, name: string, password: string): string {
  const file = join(dir, name);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}
