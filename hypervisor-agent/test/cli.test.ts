import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { decodeSecretKey, encodePublicKey } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { HELP } from '../src/cli/help.js';
import { loadAgentConfig, parseAgentConfig } from '../src/config/agent-config.js';
import { makePolicyJson, makePrincipals, rnd } from './helpers/keys.js';
import { tempDir } from './helpers/temp-dir.js';

const MAIN = resolve(import.meta.dirname, '../dist/main.js');
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });

function workspace() {
  const dir = tempDir('hva-cli-');
  const config = {
    hostId: 'hv-7',
    link: 'vm+tcp://127.0.0.1:9002',
    libvirtUri: 'test:///default',
    seedFile: 'seed',
    hostKeyFile: 'host.key',
    policyFile: 'policy.json',
    stateDir: 'state',
  };
  writeFileSync(join(dir, 'agent.json'), JSON.stringify(config));
  return { dir, configPath: join(dir, 'agent.json') };
}

describe('config validation', () => {
  it('fills defaults and resolves paths against the config file', () => {
    const { dir, configPath } = workspace();
    const c = loadAgentConfig(configPath);
    expect(c).toMatchObject({ hostId: 'hv-7', seedFile: join(dir, 'seed'), managerKeysFile: join(dir, 'manager-keys.json'), poll: { minMs: 50, maxMs: 2000 }, iana: 32473 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ hostId: undefined }, /config\.hostId is required/],
    [{ link: 'http://x' }, /config\.link unsupported link scheme/],
    [{ poll: { minMs: 500, maxMs: 100 } }, /config\.poll\.maxMs \(100\) must be >= config\.poll\.minMs \(500\)/],
    [{ poll: { minMs: 0, maxMs: 100 } }, /config\.poll\.minMs must be >= 1/],
    [{ reportIntervalSeconds: 'often' }, /config\.reportIntervalSeconds must be integer/],
    [{ colour: 'blue' }, /config\.colour is not a known field/],
  ])('rejects %j naming the field', (override, message) => {
    const base = { hostId: 'h', link: 'vm+unix:///run/x.sock', libvirtUri: 'test:///default', seedFile: 's', hostKeyFile: 'k', policyFile: 'p', stateDir: 'd' };
    expect(() => parseAgentConfig({ ...base, ...override }, '/etc')).toThrow(message);
  });
});

describe('hypervisor-agent CLI (built dist/main.js)', () => {
  it('prints --help matching the help text', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(HELP);
  });

  it('keygen writes a 0600 key and prints its public key; refuses to overwrite', () => {
    const { dir, configPath } = workspace();
    const r = run(['keygen', '--config', configPath]);
    expect(r.status).toBe(0);
    const keyFile = join(dir, 'host.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const pair = decodeSecretKey(readFileSync(keyFile, 'utf8'));
    expect(r.stdout.trim()).toBe(encodePublicKey(pair.publicKey));
    const again = run(['keygen', '--config', configPath]);
    expect(again.status).toBe(8);
    expect(again.stderr).toMatch(/refusing to overwrite/);
  });

  it('enroll writes seed, manager keys and policy 0600 from a bundle, checking the host id', () => {
    const { dir, configPath } = workspace();
    const keys = makePrincipals();
    const bundle = { version: 1, hostId: 'hv-7', seed: Buffer.from(rnd(32)).toString('base64'), managerPublicKeys: [encodePublicKey(keys.alice.publicKey)], policy: makePolicyJson(keys) };
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
    const r = run(['enroll', join(dir, 'bundle.json'), '--config', configPath]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of ['seed', 'manager-keys.json', 'policy.json']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'seed'), 'utf8').trim()).toBe(bundle.seed);
    execFileSync(process.execPath, [MAIN, 'keygen', '--config', configPath]);
    expect(run(['check-config', '--config', configPath]).stdout).toMatch(/valid/);

    writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...bundle, hostId: 'hv-8' }));
    const wrong = run(['enroll', join(dir, 'other.json'), '--config', configPath, '--force']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/bundle\.hostId "hv-8" does not match config\.hostId "hv-7"/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...bundle, seed: 'short' }));
    expect(run(['enroll', join(dir, 'bad.json'), '--config', configPath, '--force']).stderr).toMatch(/bundle\.seed must match pattern/);
  });

  it('exits 2 for usage errors, 8 when a file would be replaced, 1 when the daemon cannot start; --version is the package version', async () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    expect(run(['--version']).stdout.trim()).toBe(pkg.version);
    expect(run(['--bogus']).status).toBe(2);
    expect(run(['frobnicate', '--config', 'x.json']).status).toBe(2);
    expect(run(['enroll']).status).toBe(2);
    const { dir, configPath } = workspace();
    const keys = makePrincipals();
    const bundle = { version: 1, hostId: 'hv-7', seed: Buffer.from(rnd(32)).toString('base64'), managerPublicKeys: [encodePublicKey(keys.alice.publicKey)], policy: makePolicyJson(keys) };
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
    expect(run(['enroll', join(dir, 'bundle.json'), '--config', configPath]).status).toBe(0);
    const again = run(['enroll', join(dir, 'bundle.json'), '--config', configPath]);
    expect(again.status).toBe(8);
    expect(again.stderr).toMatch(/refusing to overwrite .*--force/);
    expect(run(['keygen', '--config', configPath]).status).toBe(0);
    // A valid setup whose metrics port is taken: the daemon cannot start (1), not a configuration error (2).
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const r = run(['--config', configPath, '--metrics', `127.0.0.1:${port}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      busy.close();
    }
  });

  it('fails with a clear message when the seed is missing', () => {
    const { configPath } = workspace();
    const r = run(['--config', configPath]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/seed file .*ENOENT.*enroll BUNDLE/);
  });
});
