/**
 * The real-libvirt test guests: small direct-boot TCG domains (Debian's cloud
 * kernel + a busybox initramfs, 128 MiB, 1 vCPU, no disk, no network) on a
 * PrivateLibvirtd. What a guest does with the ACPI power button is chosen on
 * its kernel command line (guest-init.sh): `poweroff` or `ignore`.
 *
 * Each guest's serial console is a file; /init writes a "ready" line once its
 * power-button handler is in place, so a test never sends an ACPI request
 * the guest cannot hear yet (a shutdown or reboot sent while it boots is lost).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivateLibvirtd } from './private-libvirtd.js';

// Works from src/real-libvirt (vitest) and dist/real-libvirt (built): the script stays in src.
const BUILD_SCRIPT = new URL('../../src/real-libvirt/build-guest.sh', import.meta.url).pathname;

export interface GuestSpec {
  name: string;
  acpi: 'poweroff' | 'ignore';
  /** Created with `virsh create` (gone once it powers off) instead of defined. */
  transient?: boolean;
}

/** Builds (or finds cached) the kernel + initramfs; returns the cache directory. */
export function buildGuestImages(): string {
  const r = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`building the real-libvirt guest failed: ${r.stderr.trim()}`);
  return r.stdout.trim().split('\n').at(-1) as string;
}

export function consolePath(daemon: PrivateLibvirtd, name: string): string {
  return join(daemon.guestDir, `${name}.console`);
}

export function domainXml(daemon: PrivateLibvirtd, spec: GuestSpec): string {
  const g = daemon.guestDir;
  return `<domain type='qemu'>
  <name>${spec.name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${join(g, 'vmlinuz')}</kernel>
    <initrd>${join(g, 'initramfs.cpio')}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 bc.acpi=${spec.acpi}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='${consolePath(daemon, spec.name)}' append='on'/><target port='0'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** Copies the images next to the daemon and boots each guest (defined + started, or created). */
export async function bootGuests(daemon: PrivateLibvirtd, specs: GuestSpec[]): Promise<void> {
  const cache = buildGuestImages();
  for (const f of ['vmlinuz', 'initramfs.cpio']) {
    copyFileSync(join(cache, f), join(daemon.guestDir, f));
    daemon.own(join(daemon.guestDir, f));
  }
  for (const spec of specs) {
    const xml = join(daemon.dir, `${spec.name}.xml`);
    daemon.writeOwned(xml, domainXml(daemon, spec));
    if (spec.transient) await daemon.mustVirsh(['create', xml]);
    else {
      await daemon.mustVirsh(['define', xml]);
      await daemon.mustVirsh(['start', spec.name]);
    }
  }
}

/** How many times the guest has reached "ready" since its console file began. */
export function readyCount(daemon: PrivateLibvirtd, name: string): number {
  const path = consolePath(daemon, name);
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('backchannel-guest: ready')).length;
}

/** Waits until the guest has been ready `count` times (boots since the console file began). */
export async function waitReady(daemon: PrivateLibvirtd, name: string, count: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (readyCount(daemon, name) < count) {
    if (Date.now() > deadline) {
      const text = existsSync(consolePath(daemon, name)) ? readFileSync(consolePath(daemon, name), 'utf8') : '(no console yet)';
      throw new Error(`${name} not ready (${count}) within ${timeoutMs} ms; console:\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `virsh domstate NAME` ("running", "shut off", ...), or "gone" when libvirt no longer knows it. */
export async function domstate(daemon: PrivateLibvirtd, name: string): Promise<string> {
  const r = await daemon.virsh(['domstate', name]);
  if (r.code !== 0) return /failed to get domain|Domain not found/i.test(r.stderr) ? 'gone' : `error: ${r.stderr}`;
  return r.stdout.split('\n')[0]!.trim();
}

/** `virsh domid NAME`: the running domain's id, or -1 ("-"). */
export async function domid(daemon: PrivateLibvirtd, name: string): Promise<number> {
  const out = (await daemon.mustVirsh(['domid', name])).trim();
  return out === '-' ? -1 : Number(out);
}
