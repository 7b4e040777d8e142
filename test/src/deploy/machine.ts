/**
 * A "machine" for the deployment test: a network namespace of its own and a
 * root file system of its own, a copy-on-write overlay of this host's `/`
 * (Debian 12 with Node 20, as the guide assumes) whose changes live in a
 * tmpfs. A holder process keeps a private mount namespace with those mounts;
 * commands and daemons enter it (nsenter) and chroot into the overlay, so a
 * package's postinst, useradd and files in /etc touch only this machine.
 * Everything goes away when the holder and the daemons it started are
 * stopped (by PID) and the namespace is deleted.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../harness/managed-process.js';
import { parseServiceUnit } from './unit-file.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a host command to completion (bounded by `timeoutMs`). */
export function runHost(command: string, args: string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.stdin.on('error', () => {}); // a command that exits without reading its input
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export async function mustRun(command: string, args: string[]): Promise<string> {
  const r = await runHost(command, args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The environment a root shell on a fresh machine has (plus npm offline: the namespaces have no registry). */
const SHELL_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
  DEBIAN_FRONTEND: 'noninteractive',
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
};

/** Readiness lines of the daemons (what Type=notify would tell systemd). */
const READY: Record<string, RegExp> = {
  'bmc-oem': /"msg":"listening"/,
  'vms-agent': /vms-agent serving/,
};

export class Machine {
  readonly name: string;
  readonly netns: string;
  readonly root: string;
  readonly #holder: ManagedProcess;
  readonly units = new Map<string, ManagedProcess>();

  private constructor(name: string, netns: string, root: string, holder: ManagedProcess) {
    this.name = name;
    this.netns = netns;
    this.root = root;
    this.#holder = holder;
  }

  /** `netns` must exist. `dir` is a host directory for this machine's mount points. */
  static async create(name: string, netns: string, dir: string): Promise<Machine> {
    const root = join(dir, 'root');
    const layer = join(dir, 'layer');
    mkdirSync(root, { recursive: true });
    mkdirSync(layer, { recursive: true });
    const setup = [
      `mount -t tmpfs -o size=3g,mode=0755 tmpfs ${layer}`,
      `mkdir ${layer}/upper ${layer}/work`,
      `mount -t overlay overlay -o lowerdir=/,upperdir=${layer}/upper,workdir=${layer}/work ${root}`,
      `mount --rbind /dev ${root}/dev`,
      `mount -t proc proc ${root}/proc`,
      `mount -t sysfs sysfs ${root}/sys`,
      `mount -t tmpfs -o mode=1777 tmpfs ${root}/tmp`,
      `mount -t tmpfs -o mode=0755 tmpfs ${root}/run`,
      'echo machine-ready',
      // Lives as long as the test process does, and no longer.
      'while kill -0 $PPID 2>/dev/null; do sleep 1; done',
    ].join(' && ');
    const holder = await ManagedProcess.start({
      name: `${name} (holder)`,
      command: 'ip',
      args: ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup],
      readyWhen: /machine-ready/,
      readyTimeoutMs: 20_000,
    });
    return new Machine(name, netns, root, holder);
  }

  #enter(args: string[]): string[] {
    return ['--target', String(this.#holder.pid), '--mount', '--net', '--', 'chroot', this.root, ...args];
  }

  /** A shell script as root on this machine (`sh -e -x`). */
  run(script: string, timeoutMs = 240_000): Promise<RunResult> {
    return runHost('nsenter', this.#enter(['/usr/bin/env', '-i', ...Object.entries(SHELL_ENV).map(([k, v]) => `${k}=${v}`), '/bin/sh', '-e', '-x', '-c', `cd /root\n${script}`]), { timeoutMs });
  }

  async mustRun(script: string): Promise<string> {
    const r = await this.run(script);
    if (r.code !== 0) throw new Error(`${this.name}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  async readFile(path: string): Promise<{ data: Buffer; mode: number }> {
    const r = await runHost('nsenter', this.#enter(['/bin/sh', '-c', 'stat -c %a "$1" && base64 -w0 "$1"', 'sh', path]));
    if (r.code !== 0) throw new Error(`${this.name}: cannot read ${path}: ${r.stderr}`);
    const [mode, b64] = r.stdout.split('\n');
    return { data: Buffer.from(b64 ?? '', 'base64'), mode: parseInt(mode!, 8) };
  }

  /** Like scp: a new file takes the source's mode; an existing directory receives the file under its name. */
  async writeFile(path: string, data: Buffer, mode: number): Promise<void> {
    const script = 'set -e; t="$1"; if [ -d "$t" ]; then t="$t/$2"; fi; umask 022; base64 -d > "$t"; chmod "$3" "$t"';
    const name = path.split('/').pop() ?? 'file';
    const r = await runHost('nsenter', this.#enter(['/bin/sh', '-c', script, 'sh', path, name, (mode & 0o777).toString(8)]), { input: data.toString('base64') });
    if (r.code !== 0) throw new Error(`${this.name}: cannot write ${path}: ${r.stderr}`);
  }

  /** Starts a unit the way systemd would: its directories, then ExecStart as its user, groups, capabilities and umask. */
  async startUnit(unit: string): Promise<ManagedProcess> {
    await this.units.get(unit)?.stop(10_000);
    const text = (await this.mustRun(`for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do if [ -f "$d/${unit}.service" ]; then cat "$d/${unit}.service"; exit 0; fi; done; echo "no unit ${unit}" >&2; exit 1`)).toString();
    const u = parseServiceUnit(text, `${unit}.service`);
    const dirs = u.directories
      .map((d) => `mkdir -p ${d.path} && chmod ${d.mode} ${d.path}${d.owned ? ` && chown -R ${u.user}:${u.group} ${d.path}` : ''}`)
      .join('\n');
    const ids = await this.mustRun(`${dirs}\ngetent passwd ${u.user} | cut -d: -f6\nfor g in $(id -G ${u.user}) ${u.supplementaryGroups.map((g) => `$(getent group ${g} | cut -d: -f3)`).join(' ')}; do echo $g; done | sort -un | paste -sd, -`);
    const [home, groups] = ids.trim().split('\n');
    const caps = u.ambientCapabilities.map((c) => `+${c.toLowerCase().replace(/^cap_/, '')}`).join(',');
    const env = [
      ...Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', HOME: home ?? '/', USER: u.user, LOGNAME: u.user, LANG: 'C.UTF-8' }).map(([k, v]) => `${k}=${v}`),
      ...u.directories.map((d) => `${d.env}=${d.path}`),
    ];
    const setpriv = [
      '/usr/bin/setpriv',
      '--reuid', u.user,
      '--regid', u.group,
      ...(groups ? ['--groups', groups] : ['--clear-groups']),
      ...(caps ? ['--inh-caps', caps, '--ambient-caps', caps] : []),
      ...(u.noNewPrivileges ? ['--no-new-privs'] : []),
      '--pdeathsig', 'SIGKILL',
      '--',
    ];
    const proc = await ManagedProcess.start({
      name: `${this.name}: ${unit}`,
      command: 'nsenter',
      args: this.#enter(['/usr/bin/env', '-i', ...env, ...setpriv, '/bin/sh', '-c', `umask ${u.umask}; cd /; exec "$@"`, 'sh', ...u.execStart]),
      ...(READY[unit] ? { readyWhen: READY[unit], readyTimeoutMs: 30_000 } : {}),
    });
    this.units.set(unit, proc);
    if (!READY[unit]) {
      await new Promise((r) => setTimeout(r, 1_000));
      if (proc.exited) throw new Error(`${this.name}: ${unit} exited at once:\n${proc.output}`);
    }
    return proc;
  }

  /** Stops the daemons (SIGTERM, by PID; their exit codes) and then the holder. */
  async stop(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    for (const [unit, p] of this.units) codes[unit] = await p.stop(15_000);
    await this.#holder.stop(2_000);
    return codes;
  }
}
