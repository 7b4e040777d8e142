import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasQemu = hasBinary('qemu-system-x86_64');

let h: Harness | undefined;
let qemu: ChildProcess | undefined;
afterEach(async () => {
  if (qemu?.pid !== undefined && qemu.exitCode === null && qemu.signalCode === null) {
    const exited = new Promise((r) => qemu?.once('exit', r));
    process.kill(qemu.pid, 'SIGKILL');
    await exited;
  }
  qemu = undefined;
  await h?.close();
  h = undefined;
});

describe.skipIf(!hasQemu)('QEMU ipmi-bmc-extern connects to the VM listener (skipped: qemu-system-x86_64 not installed)', () => {
  it('sees QEMU announce version 1 and its capabilities, then keeps the connection', async () => {
    h = await startHarness();
    const stderr: string[] = [];
    qemu = spawn(
      'qemu-system-x86_64',
      [
        '-nodefaults',
        '-display', 'none',
        '-machine', 'accel=tcg',
        '-S', // no guest needed: the chardev connects while the CPU is stopped
        '-chardev', `socket,id=ipmi0,host=127.0.0.1,port=${h.port},reconnect=10`,
        '-device', 'ipmi-bmc-extern,id=bmc0,chardev=ipmi0',
        '-device', 'isa-ipmi-kcs,bmc=bmc0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    qemu.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const listener = h.si.listeners[0];
    const deadline = Date.now() + 20_000;
    while (listener?.session?.peerCapabilities === undefined) {
      if (Date.now() > deadline || qemu.exitCode !== null) throw new Error(`QEMU did not connect: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(listener?.session?.peerVersion).toBe(1);
    // QEMU 7.2 with isa-ipmi-kcs announces IRQ and ATTN at least (KVM-NOTES.md saw 0x3F).
    expect((listener?.session?.peerCapabilities ?? 0) & 0x14).toBe(0x14);
    expect(h.si.stats()).toMatchObject({ connections: 1, controlsIn: 2, badChecksum: 0, malformedFrames: 0 });
    // A record for the host rings the doorbell towards QEMU without upsetting it.
    await h.lan({ kind: 'put-record', queue: 1, seq: 1, record: Uint8Array.of(1) });
    expect(listener?.session?.atnUp).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(qemu.exitCode).toBeNull();
    expect(h.si.stats().disconnects).toBe(0);
  });
});
