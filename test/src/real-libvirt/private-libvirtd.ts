/**
 * A private libvirtd (with its own virtlogd) for the real-libvirt tests,
 * leaving the machine's own libvirt alone: both run in session mode as an
 * unprivileged system user (`backchannel-virt`, created if missing), with
 * XDG_CONFIG_HOME / XDG_RUNTIME_DIR / XDG_CACHE_HOME under one temporary
 * directory, so every socket, state file, domain definition and log lives
 * there. A session daemon needs neither the `libvirt-qemu` user nor
 * /var/{log,lib,run}/libvirt (only the system daemon does). Clients, root
 * included, reach it at `qemu+unix:///session?socket=DIR/run/libvirt/libvirt-sock`.
 *
 * Both daemons run in the foreground as our children, so they are stopped by
 * PID; guests are destroyed first (a session libvirtd leaves its QEMU
 * processes running when it exits), and any QEMU left is killed by the PID
 * libvirt wrote for it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../harness/managed-process.js';

export const VIRT_USER = 'backchannel-virt';

export function realLibvirtAvailable(): { ok: true } | { ok: false; why: string } {
  for (const bin of ['/usr/sbin/libvirtd', '/usr/sbin/virtlogd', '/usr/bin/virsh', '/usr/bin/qemu-system-x86_64', '/usr/bin/setpriv']) {
    if (!existsSync(bin)) return { ok: false, why: `${bin} is missing (scripts/bootstrap installs libvirt-daemon, libvirt-daemon-driver-qemu, qemu-system-x86)` };
  }
  if (process.getuid?.() !== 0) return { ok: false, why: 'the real-libvirt tests run as root (they create a system user and drop to it)' };
  return { ok: true };
}

export interface VirshResult {
  code: number;
  stdout: string;
  stderr: string;
}

function ensureUser(): { uid: number; gid: number } {
  const look = (): string => spawnSync('id', ['-u', VIRT_USER], { encoding: 'utf8' }).stdout.trim();
  if (!look()) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', VIRT_USER], { encoding: 'utf8' });
    if (r.status !== 0 && !look()) throw new Error(`useradd ${VIRT_USER} failed: ${r.stderr}`);
  }
  const uid = Number(spawnSync('id', ['-u', VIRT_USER], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', VIRT_USER], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

export class PrivateLibvirtd {
  readonly dir: string;
  readonly uri: string;
  #virtlogd: ManagedProcess | undefined;
  #libvirtd: ManagedProcess | undefined;
  #ids = { uid: 0, gid: 0 };
  #env: NodeJS.ProcessEnv = {};
  readonly #drop = ['--reuid', VIRT_USER, '--regid', VIRT_USER, '--clear-groups'];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'real-libvirt-'));
    chmodSync(this.dir, 0o755);
    this.uri = `qemu+unix:///session?socket=${join(this.dir, 'run', 'libvirt', 'libvirt-sock')}`;
  }

  /** Where guest files go (readable and writable by the daemon's user). */
  get guestDir(): string {
    return join(this.dir, 'guests');
  }

  get pids(): { libvirtd?: number; virtlogd?: number } {
    return { libvirtd: this.#libvirtd?.child.pid, virtlogd: this.#virtlogd?.child.pid };
  }

  async start(): Promise<void> {
    this.#ids = ensureUser();
    for (const sub of ['config', 'run', 'cache', 'data', 'guests']) {
      const p = join(this.dir, sub);
      mkdirSync(p, { recursive: true });
      chownSync(p, this.#ids.uid, this.#ids.gid);
    }
    chmodSync(join(this.dir, 'run'), 0o700);
    chmodSync(join(this.dir, 'guests'), 0o755);
    mkdirSync(join(this.dir, 'config', 'libvirt'), { recursive: true });
    // TCG guests, no virtual network; QEMU's output goes through our virtlogd.
    writeFileSync(join(this.dir, 'config', 'libvirt', 'qemu.conf'), 'stdio_handler = "logd"\n');
    writeFileSync(join(this.dir, 'libvirtd.conf'), 'log_outputs = "3:stderr"\nkeepalive_interval = 5\n');
    chownSync(join(this.dir, 'config', 'libvirt'), this.#ids.uid, this.#ids.gid);
    chownSync(join(this.dir, 'config', 'libvirt', 'qemu.conf'), this.#ids.uid, this.#ids.gid);
    const env = (this.#env = {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: join(this.dir, 'data'),
      XDG_CONFIG_HOME: join(this.dir, 'config'),
      XDG_RUNTIME_DIR: join(this.dir, 'run'),
      XDG_CACHE_HOME: join(this.dir, 'cache'),
      XDG_DATA_HOME: join(this.dir, 'data'),
    });
    const drop = this.#drop;
    this.#virtlogd = await ManagedProcess.start({ name: 'virtlogd', command: 'setpriv', args: [...drop, '/usr/sbin/virtlogd'], env });
    await this.#waitFor(join(this.dir, 'run', 'libvirt', 'virtlogd-sock'), this.#virtlogd);
    this.#libvirtd = await ManagedProcess.start({
      name: 'libvirtd',
      command: 'setpriv',
      args: [...drop, '/usr/sbin/libvirtd', '--config', join(this.dir, 'libvirtd.conf')],
      env,
    });
    await this.#waitFor(join(this.dir, 'run', 'libvirt', 'libvirt-sock'), this.#libvirtd);
    for (let i = 0; i < 100; i++) {
      if ((await this.virsh(['version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`libvirtd does not answer at ${this.uri}:\n${this.#libvirtd.output.slice(-2000)}`);
  }

  async #waitFor(path: string, proc: ManagedProcess): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (existsSync(path)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${proc.name} did not create ${path}:\n${proc.output.slice(-2000)}`);
  }

  /** `virsh -c URI ARGS` (as root; the socket is the daemon user's, root may use it). */
  virsh(args: string[]): Promise<VirshResult> {
    return new Promise((resolve) => {
      execFile('virsh', ['-q', '-c', this.uri, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() });
      });
    });
  }

  async mustVirsh(args: string[]): Promise<string> {
    const r = await this.virsh(args);
    if (r.code !== 0) throw new Error(`virsh ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Writes a file the daemon's user owns (domain XML). */
  writeOwned(path: string, data: string | Uint8Array): void {
    writeFileSync(path, data);
    this.own(path);
  }

  /** Gives `path` to the daemon's user (guest images: QEMU runs as that user). */
  own(path: string): void {
    chownSync(path, this.#ids.uid, this.#ids.gid);
  }

  /** Stops libvirtd and starts it again on the same directory (guests keep running; it re-attaches them). */
  async restartLibvirtd(): Promise<void> {
    await this.#libvirtd?.stop(5000);
    this.#libvirtd = await ManagedProcess.start({
      name: 'libvirtd',
      command: 'setpriv',
      args: [...this.#drop, '/usr/sbin/libvirtd', '--config', join(this.dir, 'libvirtd.conf')],
      env: this.#env,
    });
    for (let i = 0; i < 200; i++) {
      if ((await this.virsh(['version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`libvirtd did not come back:\n${this.#libvirtd.output.slice(-2000)}`);
  }

  async stop(): Promise<void> {
    try {
      if (this.#libvirtd) {
        const names = (await this.virsh(['list', '--name'])).stdout.split('\n').filter(Boolean);
        for (const name of names) await this.virsh(['destroy', name]);
      }
    } finally {
      await this.#libvirtd?.stop(5000);
      await this.#virtlogd?.stop(5000);
      // A QEMU the daemon did not get to destroy: killed by the PID libvirt recorded for it.
      const runDir = join(this.dir, 'run', 'libvirt', 'qemu', 'run');
      if (existsSync(runDir)) {
        for (const f of readdirSync(runDir).filter((n) => n.endsWith('.pid'))) {
          const pid = Number(readFileSync(join(runDir, f), 'utf8').trim());
          if (pid > 1) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      }
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
