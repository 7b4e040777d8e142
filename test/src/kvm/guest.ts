/**
 * Boots the in-band test guest: a Linux kernel under QEMU (TCG; the /dev/kvm
 * here cannot boot a stock kernel, ../shared/KVM-NOTES.md) whose virtual KCS
 * interface is wired to a BMC's VM-protocol listener, so the guest gets a
 * real /dev/ipmi0 driven by the kernel's IPMI driver. The guest runs one
 * shell script from `workDir` (mounted at /mnt in the guest, writable) with
 * the host's / as its read-only root, then powers off.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KVM_DIR = new URL('../../kvm/', import.meta.url).pathname;

export function qemuAvailable(): boolean {
  return spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Builds (or finds cached) kernel + initramfs; returns the cache directory. */
export function prepareGuest(): string {
  const result = spawnSync('bash', [join(KVM_DIR, 'build-guest.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) throw new Error(`building the guest failed: ${result.stderr.trim()}`);
  return result.stdout.trim().split('\n').at(-1) as string;
}

export interface GuestRun {
  /** Exit code of guest-run.sh inside the guest, or null if the guest never got there. */
  scriptExit: number | null;
  /** Serial console output (kernel + init messages). */
  console: string;
  durationMs: number;
  timedOut: boolean;
}

export interface GuestOptions {
  /** TCP port of the BMC's VM-protocol listener on 127.0.0.1. */
  bmcPort: number;
  /** Host directory shared read-write at /mnt in the guest; gets guest-run.sh. */
  workDir: string;
  /** Body of /mnt/guest-run.sh, run with /bin/sh in the guest's chroot. */
  script: string;
  timeoutMs: number;
  memoryMb?: number;
  /** Called with QEMU's PID as soon as it starts (so a test can clean up). */
  onStart?: (pid: number) => void;
  /** More QEMU arguments (e.g. a second `-serial`, the guest's ttyS1, for the SOL test). */
  extraArgs?: string[];
}

export async function runGuest(options: GuestOptions): Promise<GuestRun> {
  const cache = prepareGuest();
  writeFileSync(join(options.workDir, 'guest-run.sh'), options.script, { mode: 0o755 });
  const consoleLog = join(options.workDir, 'console.log');
  const args = [
    '-accel', 'tcg', '-cpu', 'qemu64', '-m', String(options.memoryMb ?? 1024), '-smp', '1',
    '-nodefaults', '-display', 'none', '-no-reboot',
    '-kernel', join(cache, 'vmlinuz'), '-initrd', join(cache, 'initramfs.cpio'),
    '-append', 'console=ttyS0 quiet panic=-1',
    '-serial', `file:${consoleLog}`,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${options.workDir},mount_tag=work,security_model=none`,
    '-chardev', `socket,id=ipmi0,host=127.0.0.1,port=${options.bmcPort},reconnect=1`,
    '-device', 'ipmi-bmc-extern,id=bmc0,chardev=ipmi0',
    '-device', 'isa-ipmi-kcs,bmc=bmc0',
    ...(options.extraArgs ?? []),
  ];
  const started = performance.now();
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (qemu.pid) options.onStart?.(qemu.pid);
  let stderr = '';
  qemu.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGKILL');
  }, options.timeoutMs);
  await new Promise<void>((resolve) => qemu.once('exit', () => resolve()));
  clearTimeout(timer);
  const exitFile = join(options.workDir, 'guest-exit');
  const consoleText = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
  return {
    scriptExit: existsSync(exitFile) ? Number(readFileSync(exitFile, 'utf8').trim()) : null,
    console: consoleText + (stderr ? `\n[qemu stderr]\n${stderr}` : ''),
    durationMs: performance.now() - started,
    timedOut,
  };
}
