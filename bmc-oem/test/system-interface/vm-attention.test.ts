import { describe, expect, it } from 'vitest';
import { queueRequestBytes } from './harness.js';
import { useVmSession } from './helpers/vm-session.js';
import type { VmTestClient } from './vm-test-client.js';

const { start, client } = useVmSession();
const put = (seq: number) => ({ kind: 'put-record' as const, queue: 1, seq, record: Uint8Array.of(seq) });
const controls = (c: VmTestClient) => c.log.filter((l) => l.startsWith('ctl:'));

describe('VM protocol: the ATN one-shot doorbell (PROTOCOL.md §4)', () => {
  it('sends version on connect, set ATN on an append to queue 1, and clear ATN before the Get Message Flags response', async () => {
    const h = await start();
    const c = await client(h.port);
    expect(c.controls[0]).toEqual({ kind: 'version', version: 1 });
    c.sendControl({ kind: 'version', version: 1 });
    c.sendControl({ kind: 'capabilities', capabilities: 0x10 });

    await h.lan(put(1));
    await c.until(() => c.log.includes('ctl:attn'));
    // A second append while the doorbell is up does not ring again.
    await h.lan(put(2));
    const flags = await c.request(0x06, 0x31);
    expect(flags.cc).toBe(0);
    expect(flags.data).toEqual(Uint8Array.of(0x20)); // OEM0: queue 1 is non-empty
    // Clear ATN came before the response to the Get Message Flags that caused it.
    const clearAt = c.log.indexOf('ctl:no-attn');
    expect(clearAt).toBeGreaterThan(-1);
    expect(clearAt).toBeLessThan(c.log.indexOf(`rsp:${flags.seq}`));
    expect(controls(c)).toEqual(['ctl:version', 'ctl:attn', 'ctl:no-attn']);

    // Flags keep reporting OEM0 while records wait, but ATN stays down (no flag-reading loop).
    expect((await c.request(0x06, 0x31)).data).toEqual(Uint8Array.of(0x20));
    expect(controls(c)).toHaveLength(3);

    // The next append rings again; Get Record on queue 1 clears it this time.
    await h.lan(put(3));
    await c.until(() => controls(c).length === 4);
    const g = queueRequestBytes({ kind: 'get-record', queue: 1, commitSeq: 3 });
    const drained = await c.request(0x2e, g.cmd, g.data);
    expect(drained.cc).toBe(0);
    expect(controls(c)).toEqual(['ctl:version', 'ctl:attn', 'ctl:no-attn', 'ctl:attn', 'ctl:no-attn']);
    expect((await c.request(0x06, 0x31)).data).toEqual(Uint8Array.of(0x00));
    expect(h.si.stats()).toMatchObject({ attnSet: 2, attnCleared: 2 });
  });

  it('rings on connect when queue 1 already holds records, and a Get Record on queue 2 does not clear it', async () => {
    const h = await start();
    await h.lan(put(1));
    const c = await client(h.port);
    await c.until(() => c.log.includes('ctl:attn'));
    const g2 = queueRequestBytes({ kind: 'get-queue-info', queue: 2 });
    await c.request(0x2e, g2.cmd, g2.data);
    expect(c.log).not.toContain('ctl:no-attn');
  });

  it('uses ATN with IRQ once the host enabled message interrupts and mirrors the enable as ENABLE_IRQ', async () => {
    const h = await start();
    const c = await client(h.port);
    c.sendControl({ kind: 'capabilities', capabilities: 0x3f });
    // Set BMC Global Enables: receive message queue interrupt + event buffer + SEL (what the kernel sends: 0x0d).
    expect((await c.request(0x06, 0x2e, Uint8Array.of(0x0d))).cc).toBe(0);
    await c.until(() => c.log.includes('ctl:enable-irq'));
    expect((await c.request(0x06, 0x2f)).data).toEqual(Uint8Array.of(0x0d));
    await h.lan(put(1));
    await c.until(() => c.log.includes('ctl:attn-irq'));
    // A VM reset forgets the enables and re-rings the doorbell for the waiting record.
    c.sendControl({ kind: 'reset' });
    await c.until(() => c.log.filter((l) => l === 'ctl:attn').length === 1);
    expect((await c.request(0x06, 0x2f)).data).toEqual(Uint8Array.of(0x00));
  });
});
