/**
 * bmc-oem's SOL with stock consoles: `ipmitool -I lanplus sol activate`
 * (suites 17 and 3) and FreeIPMI's `ipmiconsole` reach a shell-like echo
 * host through bmc-oem, keystrokes and output intact, `~.` deactivates;
 * `ipmitool sol info` shows the parameters and `sol set` changes them; pyghmi's
 * console (OpenStack's IPMI library) reaches the host too.
 */
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmitool, ipmitoolAvailable } from '../../src/harness/ipmitool.js';
import { startBmcOem, type BmcOemInstance } from '../../src/interop/ipmitool-bmc-oem.js';
import { startEchoHost, type EchoHost } from '../../src/sol/echo-host.js';
import { PtyConsole } from '../../src/sol/pty-console.js';

/** bmc-oem on a random port in 20000..32767 (a few tries, in case one is taken). */
async function startBmcOemBelow32768(users: Parameters<typeof startBmcOem>[0], extra: string[]): Promise<BmcOemInstance> {
  let last: unknown;
  for (let i = 0; i < 5; i++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    try {
      return await startBmcOem(users, [...extra, '--listen', `127.0.0.1:${port}`]);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** pyghmi's SOL console (Debian's python3-pyghmi under /usr/bin/python3): connect, type a line, read the echo, close. */
const PYGHMI_CONSOLE = `
import sys, time
import pyghmi.ipmi.console as console
import pyghmi.ipmi.private.session as session
out = []
c = console.Console(bmc='127.0.0.1', userid=sys.argv[2], password=sys.argv[3], iohandler=lambda d: out.append(d if isinstance(d, str) else repr(d)), port=int(sys.argv[1]))
sent = False
end = time.time() + 15
while time.time() < end and 'echo: pyghmi line' not in ''.join(out):
    session.Session.wait_for_rsp(0.2)
    if c.connected and not sent:
        c.send_data('pyghmi line\\r')
        sent = True
print('connected' if c.connected else 'not connected')
print(''.join(out))
c.close()
session.Session.wait_for_rsp(1)
`;
const pyghmiAvailable = spawnSync('/usr/bin/python3', ['-c', 'import pyghmi.ipmi.console'], { stdio: 'ignore' }).status === 0;
const ipmiconsoleAvailable = spawnSync('ipmiconsole', ['--version'], { stdio: 'ignore' }).status === 0;
const python = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!ipmitoolAvailable() || !python)('bmc-oem SOL with stock consoles [needs ipmitool, python3]', () => {
  let host: EchoHost;
  let bmc: BmcOemInstance;

  beforeAll(async () => {
    host = await startEchoHost();
    bmc = await startBmcOem(
      [
        { name: 'admin', privilege: 'administrator', password: 'admin-secret' },
        { name: 'oper', privilege: 'operator', password: 'oper-secret' },
      ],
      ['--sol-device', `tcp:127.0.0.1:${host.port}`],
    );
    await bmc.proc.waitFor(/SOL host serial line up/, 10_000);
  });

  afterAll(async () => {
    expect(await bmc?.stop()).toBe(0);
    await host?.close();
  });

  const target = (suite: number) => ({ port: bmc.port, user: 'oper', passwordFile: bmc.passwordFile('oper'), cipherSuite: suite, privilege: 'OPERATOR' as const });
  const lanplus = (suite: number) => ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(bmc.port), '-U', 'oper', '-f', bmc.passwordFile('oper'), '-C', String(suite), '-L', 'OPERATOR'];

  it('ipmitool sol info shows the SOL parameters', () => {
    const r = ipmitool(target(17), ['sol', 'info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Enabled\s+: true/);
    expect(r.stdout).toMatch(/Privilege Level\s+: USER/);
    expect(r.stdout).toMatch(/Retry Count\s+: 7/);
    expect(r.stdout).toMatch(/Retry Interval \(ms\)\s+: 500/);
    expect(r.stdout).toMatch(/Volatile Bit Rate \(kbps\)\s+: 115\.2/);
    expect(r.stdout).toMatch(new RegExp(`Payload Port\\s+: ${bmc.port}`));
  });

  it('ipmitool sol set changes the bit rate and retry count (administrator)', () => {
    const admin = { port: bmc.port, user: 'admin', passwordFile: bmc.passwordFile('admin'), cipherSuite: 17, privilege: 'ADMINISTRATOR' as const };
    expect(ipmitool(admin, ['sol', 'set', 'volatile-bit-rate', '57.6']).status).toBe(0);
    expect(ipmitool(admin, ['sol', 'set', 'retry-count', '5']).status).toBe(0);
    const r = ipmitool(admin, ['sol', 'info']);
    expect(r.stdout).toMatch(/Volatile Bit Rate \(kbps\)\s+: 57\.6/);
    expect(r.stdout).toMatch(/Retry Count\s+: 5/);
    expect(ipmitool(admin, ['sol', 'set', 'volatile-bit-rate', '115.2']).status).toBe(0);
    // An operator may not change them.
    expect(ipmitool(target(17), ['sol', 'set', 'retry-count', '3']).status).not.toBe(0);
  });

  for (const suite of [17, 3]) {
    it(`ipmitool -C ${suite} sol activate: keystrokes reach the host, its output comes back, ~. deactivates`, async () => {
      const before = host.received().length;
      const c = new PtyConsole('ipmitool', [...lanplus(suite), 'sol', 'activate']);
      await c.waitFor(/SOL Session operational/);
      const line = `uname -a ${suite} ~x!@#$%^&*()`;
      c.type(`${line}\r`);
      await c.waitFor(new RegExp(`echo: ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(host.received().slice(before)).toContain(`${line}\r`);
      c.type('\r~.');
      expect(await c.exited()).toBe(0);
      // Deactivated: a new console can activate at once.
      expect(ipmitool(target(suite), ['sol', 'deactivate']).stderr).toMatch(/already de-activated|not active|0x80/i);
    });
  }

  it.skipIf(!ipmiconsoleAvailable)('FreeIPMI ipmiconsole: keystrokes and output intact, ~. (escape set to ~) closes', async () => {
    // ipmiconsole refuses a port above 32767 ("hostname invalid"): this BMC listens on a low one.
    const low = await startBmcOemBelow32768([{ name: 'oper', privilege: 'operator', password: 'oper-secret' }], ['--sol-device', `tcp:127.0.0.1:${host.port}`]);
    try {
      await low.proc.waitFor(/SOL host serial line up/, 10_000);
      const c = new PtyConsole('ipmiconsole', ['-h', `127.0.0.1:${low.port}`, '--config-file', '/dev/null', '-u', 'oper', '-p', 'oper-secret', '-l', 'OPERATOR', '-I', '17', '-e', '~']);
      await c.waitFor(/SOL established/);
      c.type('free ipmi 0123456789\r');
      await c.waitFor(/echo: free ipmi 0123456789/);
      c.type('\r~.');
      await c.waitFor(/closing the connection/);
      await c.exited();
    } finally {
      expect(await low.stop()).toBe(0);
    }
  });

  it.skipIf(!pyghmiAvailable)("pyghmi's console: connects, the line reaches the host and its echo comes back", async () => {
    // Not spawnSync: the echo host lives in this process and must keep answering meanwhile.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile('/usr/bin/python3', ['-c', PYGHMI_CONSOLE, String(bmc.port), 'oper', 'oper-secret'], { encoding: 'utf8', timeout: 40_000 }, (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^connected/);
    expect(r.stdout, r.stderr).toContain('echo: pyghmi line');
  });

  it('a second console is refused while one is active; an administrator can end the first', async () => {
    const first = new PtyConsole('ipmitool', [...lanplus(17), 'sol', 'activate']);
    await first.waitFor(/SOL Session operational/);
    const second = ipmitool(target(17), ['sol', 'activate']);
    expect(second.stderr + second.stdout).toMatch(/already active/i);
    const admin = { port: bmc.port, user: 'admin', passwordFile: bmc.passwordFile('admin'), cipherSuite: 17, privilege: 'ADMINISTRATOR' as const };
    expect(ipmitool(admin, ['sol', 'deactivate']).status).toBe(0);
    // The holder was sent "SOL deactivating" (its RMCP+ session stays, as the spec says); the payload is free again.
    const next = new PtyConsole('ipmitool', [...lanplus(17), 'sol', 'activate']);
    await next.waitFor(/SOL Session operational/);
    next.type('second\r');
    await next.waitFor(/echo: second/);
    expect(first.output).not.toMatch(/echo: second/);
    next.type('\r~.');
    expect(await next.exited()).toBe(0);
    first.type('\r~.');
    await first.exited();
  });
});
