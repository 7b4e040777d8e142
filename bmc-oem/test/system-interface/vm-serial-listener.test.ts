import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { decodeVmControlPayload, decodeVmResponsePayload, encodeVmControlFrame, encodeVmRequestFrame, VmFrameDecoder } from '@backchannel/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const BRIDGE = new URL('./fixtures/pty-bridge.py', import.meta.url).pathname;

let h: Harness | undefined;
let bridge: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (bridge && bridge.exitCode === null) {
    const done = new Promise((r) => bridge?.once('exit', r));
    bridge.kill('SIGKILL');
    await done;
  }
});

describe.skipIf(!has('python3') || !has('stty'))('serial listener over a pseudo-terminal (skipped: needs python3 and stty for the pty rig)', () => {
  it('sets the line with stty, announces its version, answers requests and rings ATN', async () => {
    bridge = spawn('python3', [BRIDGE], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = createInterface({ input: bridge.stdout });
    const ptyPath = await new Promise<string>((resolve) => lines.once('line', resolve));
    lines.close();
    const decoder = new VmFrameDecoder();
    const seen: string[] = [];
    const responses: ReturnType<typeof decodeVmResponsePayload>[] = [];
    bridge.stdout.on('data', (chunk: Buffer) => {
      for (const e of decoder.push(new Uint8Array(chunk))) {
        if (e.kind === 'control') seen.push(decodeVmControlPayload(e.payload).kind);
        if (e.kind === 'message') responses.push(decodeVmResponsePayload(e.payload));
      }
    });
    bridge.stdout.resume(); // readline paused it when closed
    h = await startHarness({ specs: [{ kind: 'serial', path: ptyPath, baud: 115200, text: `serial:${ptyPath}@115200` }] });
    expect(execFileSync('stty', ['-F', ptyPath, '-a']).toString()).toMatch(/-echo\b/);
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 30));
      expect(ok()).toBe(true);
    };
    await until(() => seen.includes('version'));
    // On a serial line either end may start first: the BMC answers our version with its own.
    bridge.stdin.write(encodeVmControlFrame({ kind: 'version', version: 1 }));
    await until(() => seen.filter((k) => k === 'version').length === 2);
    bridge.stdin.write(encodeVmRequestFrame({ seq: 0x21, netfn: 0x06, lun: 0, cmd: 0x01, data: new Uint8Array() }));
    await until(() => responses.length === 1);
    expect(responses[0]).toMatchObject({ seq: 0x21, netfn: 0x07, cmd: 0x01, cc: 0 });
    await h.lan({ kind: 'put-record', queue: 1, seq: 1, record: Uint8Array.of(0xa0, 0xa1, 0xaa) });
    await until(() => seen.includes('attn'));
  });
});
