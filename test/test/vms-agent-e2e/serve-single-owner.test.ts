/**
 * One `vms-agent serve` per SQLite store (issue 18): two real processes on
 * one store. The second exits non-zero with a clear message before it
 * starts any link; so does a serve whose HTTP port is taken. The lock goes
 * with its owner, however it ends (SIGTERM or kill -9), and admin commands
 * keep working beside a running serve.
 *
 * "Started a link" is observed from outside: the host's BMC address is a
 * UDP socket of this test, and any vms-agent link sends it RMCP+ datagrams.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from '../../src/harness/managed-process.js';
import { VMS_AGENT_MAIN } from '../../src/vms-agent-e2e/stack.js';

let dir: string;
let bmc: Socket;
/** Datagrams the "BMC" received: any means some serve started a link. */
let datagrams = 0;
const started: ManagedProcess[] = [];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VMS_AGENT_MAIN, ...args, '--config', join(dir, 'vms-agent.json')], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function serve(name: string, extra: string[] = []): Promise<{ proc: ManagedProcess; url: string }> {
  const proc = await ManagedProcess.start({
    name,
    command: process.execPath,
    args: [VMS_AGENT_MAIN, 'serve', '--listen', '127.0.0.1:0', '--config', join(dir, 'vms-agent.json'), ...extra],
    env: { ...process.env, BACKCHANNEL_LOG_LEVEL: 'info' },
    readyWhen: /"address":"(http:\/\/127\.0\.0\.1:\d+)"/,
  });
  started.push(proc);
  return { proc, url: /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(proc.output)![1]! };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-single-owner-'));
  bmc = createSocket('udp4');
  bmc.on('message', () => datagrams++);
  await new Promise<void>((r) => bmc.bind(0, '127.0.0.1', () => r()));
  writeFileSync(join(dir, 'bmc.pw'), 'oper-secret\n', { mode: 0o600 });
  writeFileSync(join(dir, 'vms-agent.json'), JSON.stringify({ db: join(dir, 'vms.db'), masterKeyFile: join(dir, 'master.key'), logLevel: 'info' }));
  for (const args of [
    ['keygen', '--master-key', '--out', join(dir, 'master.key')],
    ['hosts', 'add', 'hv-01', '--bmc', `127.0.0.1:${bmc.address().port}`, '--user', 'oper', '--password-file', join(dir, 'bmc.pw')],
  ]) {
    const r = await cli(args);
    if (r.code !== 0) throw new Error(`vms-agent ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(started.map((p) => p.stop()));
  bmc?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vms-agent serve on a SQLite store', () => {
  it('a second serve on the same store exits 8 with a clear message and starts no link', async () => {
    // The owner runs without links, so every datagram the BMC socket sees would be the second one's.
    const owner = await serve('vms-agent owner', ['--no-links']);
    const second = await cli(['serve', '--listen', '127.0.0.1:0']);
    expect(second.code).toBe(8);
    expect(second.stderr).toContain(`another "vms-agent serve" is running on the store ${join(dir, 'vms.db')}`);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stdout).not.toMatch(/vms-agent serving/);
    // Admin commands open the store itself, not the lock: they work beside the owner.
    const added = await cli(['hosts', 'add', 'hv-02', '--bmc', `127.0.0.1:${bmc.address().port}`, '--user', 'oper', '--password-file', join(dir, 'bmc.pw')]);
    expect(added.code, added.stderr).toBe(0);
    await sleep(500);
    expect(datagrams).toBe(0);
    // The owner is undisturbed.
    expect((await fetch(`${owner.url}/healthz`)).status).toBe(200);
    expect(await owner.proc.stop()).toBe(0);
  });

  it('the lock goes with its owner: after SIGTERM or kill -9 the next serve takes the store and runs its links', async () => {
    const first = await serve('vms-agent first', ['--no-links']);
    await first.proc.crash();
    const second = await serve('vms-agent second');
    // Its links start: the BMC socket hears from them.
    for (let i = 0; i < 100 && datagrams === 0; i++) await sleep(50);
    expect(datagrams).toBeGreaterThan(0);
    // (A SIGTERM'd owner let go too: the owner of the test before stopped that way.)
    expect(await second.proc.stop()).toBe(0);
  });

  it('a serve whose port is taken exits non-zero, names the port, and starts no link (the lock is let go)', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      await sleep(300);
      const before = datagrams;
      const r = await cli(['serve', '--listen', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
      expect(r.stderr).toContain('no BMC link was started');
      await sleep(500);
      expect(datagrams).toBe(before);
      // It released the store's lock on the way out.
      const next = await serve('vms-agent after', ['--no-links']);
      expect(await next.proc.stop()).toBe(0);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
