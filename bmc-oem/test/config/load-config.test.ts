import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, HELP_TEXT, loadConfig, parseCli } from '../../src/config/index.js';

let dir: string;
let pwFile: string;

function write(name: string, content: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

function run(argv: string[]) {
  const r = loadConfig(argv);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r;
}

function configError(argv: string[]): ConfigError {
  try {
    loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmc-oem-config-'));
  pwFile = write('oper.pw', 'secret\n');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('config from flags', () => {
  it('applies defaults and reads the password file without its newline', () => {
    const { config, warnings } = run(['--listen', '127.0.0.1:9623', '--user', `oper:operator:${pwFile}`]);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9623 });
    expect(config.users).toHaveLength(1);
    expect(config.users[0]?.name).toBe('oper');
    expect(config.users[0]?.privilege).toBe(3);
    expect(Buffer.from(config.users[0]!.password.reveal()).toString()).toBe('secret');
    expect(config.cipherSuites).toEqual([17, 3]);
    expect(config.iana).toBe(32473);
    expect(config.queueCapacity).toBe(65536);
    expect(config.maxRecord).toBe(200);
    expect(config.hostPower.backend).toBe('none');
    expect(warnings).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses every flag', () => {
    const { config } = run([
      '--listen', '[::1]:700',
      '--user', `a:administrator:${pwFile}`,
      '--user', `u:user:${pwFile}`,
      '--vm-listen', 'tcp:127.0.0.1:9001',
      '--vm-listen', 'unix:/run/bmc.sock',
      '--vm-listen', 'serial:/dev/ttyS1@57600',
      '--iana', '0x7ed9',
      '--queue-capacity', '4096',
      '--max-record', '100',
      '--state-dir', dir,
      '--cipher-suites', '3',
      '--metrics', '127.0.0.1:9102',
      '--log-level', 'debug',
      '--host-power', 'command', '--power-command', '/bin/true', '--power-status-command', '/bin/echo',
    ]);
    expect(config.listen).toEqual({ host: '::1', port: 700 });
    expect(config.users.map((u) => [u.name, u.privilegeName])).toEqual([['a', 'administrator'], ['u', 'user']]);
    expect(config.vmListen.map((v) => v.kind)).toEqual(['tcp', 'unix', 'serial']);
    expect(config.vmListen[2]).toMatchObject({ path: '/dev/ttyS1', baud: 57600 });
    expect(config.iana).toBe(0x7ed9);
    expect(config.queueCapacity).toBe(4096);
    expect(config.maxRecord).toBe(100);
    expect(config.stateDir).toBe(dir);
    expect(config.cipherSuites).toEqual([3]);
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9102 });
    expect(config.logLevel).toBe('debug');
    expect(config.hostPower).toEqual({ backend: 'command', controlCommand: '/bin/true', statusCommand: '/bin/echo' });
  });

  it('never shows a password when the config is logged', () => {
    const { config } = run(['--user', `oper:operator:${pwFile}`]);
    expect(JSON.stringify(config)).not.toContain('secret');
    expect(inspect(config, { depth: 10 })).not.toContain('secret');
  });

  it('warns about a password file others can read', () => {
    const loose = write('loose.pw', 'pw', 0o644);
    expect(run(['--user', `oper:operator:${loose}`]).warnings[0]).toMatch(/readable by group or others/);
  });

  it.each([
    [['--user', 'oper:root:/x'], '--user (users[0].privilege)', /must be one of/],
    [['--user', 'oper'], '--user #1', /NAME:PRIVILEGE:PASSWORD_FILE/],
    [['--user', `oper:operator:${'/nonexistent/pw'}`], '--user #1 (passwordFile)', /cannot read password file/],
    [['--cipher-suites', '0'], '--cipher-suites (cipherSuites[0])', /must be one of 3, 17/],
    [['--queue-capacity', 'lots'], '--queue-capacity', /expected an integer/],
    [['--queue-capacity', '10'], '--queue-capacity (queueCapacity)', /must be >= 256/],
    [['--listen', 'localhost'], '--listen (listen)', /HOST:PORT/],
    [['--vm-listen', 'udp:1.2.3.4:5'], '--vm-listen (vmListen[0])', /tcp:HOST:PORT/],
    [['--log-level', 'loud'], '--log-level (logLevel)', /must be one of/],
    [['--host-power', 'command'], '--host-power (hostPower.controlCommand)', /is required/],
    [['--bogus'], 'command line', /Unknown option/],
  ])('rejects %j naming %s', (argv, field, message) => {
    const withUser = argv.includes('--user') ? argv : [...argv, '--user', `oper:operator:${pwFile}`];
    const err = configError(withUser);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('requires a user', () => {
    expect(configError(['--listen', '127.0.0.1:1']).field).toBe('users');
  });

  it('rejects an empty or over-long password and duplicate users', () => {
    const empty = write('empty.pw', '\n');
    const long = write('long.pw', 'x'.repeat(21));
    expect(configError(['--user', `a:user:${empty}`]).message).toMatch(/is empty/);
    expect(configError(['--user', `a:user:${long}`]).message).toMatch(/longer than 20 bytes/);
    expect(configError(['--user', `a:user:${pwFile}`, '--user', `a:user:${pwFile}`]).field).toBe('--user #2 (name)');
  });
});

describe('config file', () => {
  it('loads a file, resolves password files relative to it, and lets flags win', () => {
    write('rel.pw', 'relpass');
    const file = write(
      'bmc.json',
      JSON.stringify({
        listen: '127.0.0.1:1623',
        users: [{ name: 'admin', privilege: 'administrator', passwordFile: 'rel.pw' }],
        cipherSuites: [17],
        sessions: { max: 10, maxPending: 5, idleTimeoutMs: 30000 },
        loginThrottle: { freeFailures: 2 },
        device: { guid: '01234567-89ab-cdef-0123-456789abcdef', productId: 7 },
      }),
    );
    const { config } = run(['--config', file, '--listen', '127.0.0.1:2623']);
    expect(config.listen.port).toBe(2623);
    expect(Buffer.from(config.users[0]!.password.reveal()).toString()).toBe('relpass');
    expect(config.sessions).toEqual({ max: 10, maxPending: 5, setupTimeoutMs: 10_000, idleTimeoutMs: 30_000, perUser: 64, perSource: 128, perSourcePending: 16 });
    expect(config.loginThrottle).toEqual({ freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 300_000, forgetAfterMs: 900_000 });
    expect(Buffer.from(config.device.guid!).toString('hex')).toBe('efcdab8967452301efcdab8967452301');
    expect(config.device.productId).toBe(7);
  });

  it('names the field of a bad file', () => {
    const bad = write('bad.json', JSON.stringify({ users: [{ name: 'x', privilege: 'operator', passwordFile: 'p', extra: 1 }], sessions: { max: 0 } }));
    const err = configError(['--config', bad]);
    expect(err.field).toBe('users[0].extra');
    expect(err.message).toMatch(/is not a known setting/);
    expect(err.message).toMatch(/sessions\.max: must be >= 1/);
  });

  it('rejects invalid JSON and a missing file', () => {
    expect(configError(['--config', write('broken.json', '{')]).message).toMatch(/not valid JSON/);
    expect(configError(['--config', join(dir, 'absent.json')]).message).toMatch(/ENOENT/);
  });

  it('rejects a password written into the file instead of a password file', () => {
    const f = write('inline.json', JSON.stringify({ users: [{ name: 'x', privilege: 'operator', password: 'pw' }] }));
    const err = configError(['--config', f]);
    expect(err.message).toMatch(/users\[0\]\.passwordFile: is required/);
    expect(err.message).toMatch(/users\[0\]\.password: is not a known setting/);
  });
});

describe('--help', () => {
  it('documents every flag the parser accepts', () => {
    const flags = [...HELP_TEXT.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
    for (const f of ['config', 'listen', 'user', 'vm-listen', 'iana', 'queue-capacity', 'max-record', 'state-dir', 'cipher-suites', 'metrics', 'log-level', 'host-power', 'power-command', 'power-status-command', 'help', 'version']) {
      expect(flags).toContain(f);
    }
    // And every flag in the help text is accepted.
    for (const f of new Set(flags)) {
      const boolean = f === 'help' || f === 'version';
      expect(() => parseCli(boolean ? [`--${f}`] : [`--${f}`, '1'])).not.toThrow(/Unknown option/);
    }
    expect(loadConfig(['--help']).kind).toBe('help');
  });
});
