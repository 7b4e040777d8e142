// Issue "real in-band path", first acceptance item: a Linux guest whose KCS
// interface is wired to bmc-oem gets /dev/ipmi0 from the kernel's own IPMI
// driver, and stock `ipmitool -I open mc info` answers from bmc-oem.
// Runs whenever qemu-system-x86_64 is installed (TCG; see ../shared/KVM-NOTES.md).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAllManaged } from '../../src/harness/managed-process.js';
import { startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';
import { qemuAvailable, runGuest } from '../../src/kvm/guest.js';

const work = mkdtempSync(join(tmpdir(), 'kvm-ipmitool-'));
afterAll(async () => {
  await stopAllManaged();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!qemuAvailable())('in-band: kernel /dev/ipmi0 wired to bmc-oem (skipped only when qemu-system-x86_64 is not installed)', () => {
  it('ipmitool -I open mc info in the guest answers from bmc-oem', { timeout: 240_000 }, async () => {
    const bmc = await startBmcOem([{ name: 'admin', privilege: 'administrator', password: 'kvm-secret' }], ['--vm-listen', 'tcp:127.0.0.1:0']);
    const vmPort = Number((await bmc.proc.waitFor(/"vm":\["tcp:127\.0\.0\.1:(\d+)"\]/, 5000))[1]);
    const run = await runGuest({
      bmcPort: vmPort,
      workDir: work,
      timeoutMs: 180_000,
      script: [
        'ls -l /dev/ipmi0 > /mnt/dev.txt 2>&1',
        'ipmitool -I open mc info > /mnt/mc-info.txt 2>&1; echo "exit $?" >> /mnt/mc-info.txt',
        'ipmitool -I open raw 0x2e 0x00 0xd9 0x7e 0x00 0x01 > /mnt/queue-info.txt 2>&1; echo "exit $?" >> /mnt/queue-info.txt',
      ].join('\n'),
    });
    const mcInfo = readFileSync(join(work, 'mc-info.txt'), 'utf8');
    expect(run.timedOut, run.console).toBe(false);
    expect(run.console).toContain('/dev/ipmi0 present');
    expect(run.scriptExit).toBe(0);
    expect(mcInfo).toContain('IPMI Version              : 2.0');
    expect(mcInfo).toMatch(/Manufacturer ID\s+: 32473/);
    expect(mcInfo).toContain('exit 0');
    // The OEM queue command through the kernel driver (system interface side): Get Queue Info on queue 1.
    const queueInfo = readFileSync(join(work, 'queue-info.txt'), 'utf8');
    expect(queueInfo).toContain('exit 0');
    expect(queueInfo.trim().split(/\s+/).slice(0, 4)).toEqual(['d9', '7e', '00', '01']);
    await bmc.stop();
  });
});
