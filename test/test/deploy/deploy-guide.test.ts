/**
 * docs/deploy.md, executed. Builds the release artifacts, creates three
 * network namespaces (manager, BMC board, hypervisor; the BMC's LAN on its
 * own veth, the system interface on another, and no route from the
 * hypervisor to the manager), gives each a copy-on-write root of this host
 * (Debian 12, Node 20), and runs every `deploy:` block of the guide in order:
 * installs the .deb / npm artifacts as the guide says, configures, enrols,
 * writes the policy, starts the daemons with their units' ExecStart lines
 * and sends the first command through the CLI. A step missing from the guide
 * or wrong in it fails here.
 *
 * Needs root (namespaces, mounts); skipped otherwise, with the reason.
 * DEPLOY_TEST_RELEASE_DIR=DIR uses artifacts built before instead of
 * building them (for working on the guide; `npm test` always builds).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Endpoint, type MachineName, parseGuide, siteAssignments } from '../../src/deploy/guide.js';
import { Machine, mustRun, runHost } from '../../src/deploy/machine.js';

const repo = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
const guideText = readFileSync(join(repo, 'docs', 'deploy.md'), 'utf8');
const canRun = process.getuid?.() === 0 && process.platform === 'linux';

/** The addresses of the namespaces (documentation ranges, only inside them). */
const NET = { managerLan: '192.0.2.10', bmcLan: '192.0.2.21', bmcSi: '198.51.100.1', hvSi: '198.51.100.2', siPort: 9002 };

/** The site values the test puts in place of the guide's: same names, this test's network and libvirt. */
const SITE: Record<MachineName, Record<string, string>> = {
  bmc: { BMC_LAN_ADDRESS: NET.bmcLan, VM_LISTEN: `tcp:${NET.bmcSi}:${NET.siPort}` },
  manager: { HOST_ID: 'hv-01', BMC_ADDRESS: NET.bmcLan, VM: 'web-2' },
  hypervisor: { HOST_ID: 'hv-01', BMC_LINK: `vm+tcp://${NET.bmcSi}:${NET.siPort}`, LIBVIRT_URI: 'test:///srv/libvirt-test/node.xml' },
};

const dir = mkdtempSync(join(tmpdir(), 'bc-deploy-'));
const tag = `bcd${process.pid % 100_000}`;
const netns: Record<MachineName, string> = { manager: `${tag}-mgr`, bmc: `${tag}-bmc`, hypervisor: `${tag}-hv` };
const machines = new Map<MachineName, Machine>();
const log: string[] = [];

async function network(): Promise<void> {
  for (const ns of Object.values(netns)) {
    await mustRun('ip', ['netns', 'add', ns]);
    await mustRun('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // The management LAN: manager ↔ BMC board.
  await mustRun('ip', ['link', 'add', 'lan0', 'netns', netns.manager, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', netns.bmc]);
  // The system interface (a serial line on a real board): BMC board ↔ hypervisor.
  await mustRun('ip', ['link', 'add', 'si0', 'netns', netns.bmc, 'type', 'veth', 'peer', 'name', 'si0', 'netns', netns.hypervisor]);
  const addr = [
    [netns.manager, 'lan0', NET.managerLan],
    [netns.bmc, 'lan0', NET.bmcLan],
    [netns.bmc, 'si0', NET.bmcSi],
    [netns.hypervisor, 'si0', NET.hvSi],
  ] as const;
  for (const [ns, dev, ip] of addr) {
    await mustRun('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev]);
    await mustRun('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }
}

function releaseFile(pattern: string, releaseDir: string): string {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  const found = readdirSync(releaseDir).filter((f) => re.test(f));
  if (found.length !== 1) throw new Error(`release/${pattern} matches ${found.length} files (${found.join(', ')})`);
  return join(releaseDir, found[0]!);
}

async function copy(from: Endpoint, to: { machine: MachineName; path: string }, releaseDir: string): Promise<void> {
  let data: Buffer;
  let mode: number;
  let name: string;
  if ('release' in from) {
    const file = releaseFile(from.release, releaseDir);
    data = readFileSync(file);
    mode = statSync(file).mode;
    name = file.split('/').pop()!;
  } else {
    ({ data, mode } = await machines.get(from.machine)!.readFile(from.path));
    name = from.path.split('/').pop()!;
  }
  const target = to.path.endsWith('/') ? `${to.path}${name}` : to.path;
  await machines.get(to.machine)!.writeFile(target, data, mode);
}

afterAll(async () => {
  const exits: Record<string, number | null> = {};
  for (const [name, m] of machines) for (const [unit, code] of Object.entries(await m.stop())) exits[`${name}/${unit}`] = code;
  for (const ns of Object.values(netns)) await runHost('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
  // A clean stop of every daemon (SIGTERM → 0) is part of what the units promise.
  for (const [unit, code] of Object.entries(exits)) expect(code, `${unit} exit code on SIGTERM`).toBe(0);
}, 120_000);

describe.skipIf(!canRun)('docs/deploy.md, executed on three network namespaces' + (canRun ? '' : ' (skipped: needs root for namespaces and mounts)'), () => {
  const guide = parseGuide(guideText);

  it('marks its site values with the names this test sets', () => {
    for (const m of ['manager', 'bmc', 'hypervisor'] as const) expect(guide.site[m].sort(), m).toEqual(Object.keys(SITE[m]).sort());
    expect(guide.steps.filter((s) => s.kind === 'service').map((s) => (s.kind === 'service' ? `${s.machine}/${s.unit}` : ''))).toEqual(['bmc/bmc-oem', 'manager/vms-agent', 'hypervisor/hypervisor-agent']);
  });

  it('installs, configures, enrols, starts and applies the first command as the guide says', { timeout: 600_000 }, async () => {
    const started = Date.now();
    const releaseDir = process.env.DEPLOY_TEST_RELEASE_DIR ?? join(dir, 'release');
    if (!process.env.DEPLOY_TEST_RELEASE_DIR) {
      const r = await runHost(process.execPath, [join(repo, 'scripts', 'release', 'main.mjs'), '--out', releaseDir], { timeoutMs: 400_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    }
    log.push(`release: ${Math.round((Date.now() - started) / 1000)} s`);

    await network();
    for (const name of ['manager', 'bmc', 'hypervisor'] as const) machines.set(name, await Machine.create(name, netns[name], join(dir, name)));
    // The hypervisor's libvirt: the test driver with web-1 running, web-2 shut off, db-1 paused.
    await machines.get('hypervisor')!.mustRun('mkdir -p /srv/libvirt-test && chmod 0755 /srv/libvirt-test');
    await machines.get('hypervisor')!.writeFile('/srv/libvirt-test/node.xml', readFileSync(join(repo, 'hypervisor-agent', 'test', 'fixtures', 'node.xml')), 0o644);

    let lastOutput = '';
    for (const step of guide.steps) {
      const t0 = Date.now();
      const where = `docs/deploy.md:${step.line}`;
      if (step.kind === 'copy') {
        await copy(step.from, step.to, releaseDir);
      } else if (step.kind === 'service') {
        await machines.get(step.machine)!.startUnit(step.unit);
      } else {
        const res = await machines.get(step.machine)!.run(`${siteAssignments(SITE[step.machine])}\n${step.script}`);
        lastOutput = `${res.stdout}\n${res.stderr}`;
        const units = [...machines.values()].flatMap((m) => [...m.units].map(([u, p]) => `--- ${m.name}/${u}:\n${p.output.slice(-3000)}`)).join('\n');
        expect(res.code, `${where} on ${step.machine} failed:\n${lastOutput}\n${units}`).toBe(0);
      }
      log.push(`${where} ${step.kind} ${'machine' in step ? step.machine : step.to.machine}: ${Date.now() - t0} ms`);
    }
    // The last block is the first command: the CLI signed the challenge and the VM runs.
    expect(lastOutput).toMatch(/start web-2 on hv-01, requested by alice/);
    expect(lastOutput).toMatch(/applied, shutoff → running/);
    log.push(`total: ${Math.round((Date.now() - started) / 1000)} s`);
    console.log(`deployment guide steps:\n  ${log.join('\n  ')}`);
  });

  it('leaves the hypervisor without a route to the manager, and the manager reaching the BMC only over its LAN', async () => {
    const hv = machines.get('hypervisor');
    if (!hv) return expect.fail('the guide did not run');
    const probe = (host: string, port: number) =>
      `node -e 'const s=require("net").connect(${port},"${host}");s.setTimeout(2000,()=>{console.log("timeout");process.exit(0)});s.on("connect",()=>{console.log("connected");process.exit(0)});s.on("error",(e)=>{console.log(e.code);process.exit(0)})'`;
    expect((await hv.mustRun(probe(NET.managerLan, 8480))).trim()).toBe('ENETUNREACH');
    expect((await hv.mustRun('ip route')).trim()).not.toMatch(/default|192\.0\.2\./);
    // The API listens on the manager's loopback only (the guide's listen 127.0.0.1:8480).
    expect((await machines.get('bmc')!.mustRun(probe(NET.managerLan, 8480))).trim()).toBe('ECONNREFUSED');
  });
});
