/**
 * The whole chain on 127.0.0.1, every part its real built binary:
 * vms-agent serve ──RMCP+──▶ bmc-oem ◀──VM serial (TCP)── hypervisor-agent
 * (libvirt test driver, the 3-domain fixture). Set up the way an operator
 * would: vms-agent CLI for keys, principals, tokens, host and enrollment
 * bundle; hypervisor-agent keygen + enroll; a policy naming the principals.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '../harness/managed-process.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
export const VMS_AGENT_MAIN = root('vms-agent/dist/main.js');
export const HYPERVISOR_AGENT_MAIN = root('hypervisor-agent/dist/main.js');
export const BMC_OEM_MAIN_PATH = root('bmc-oem/dist/main.js');
export const LIBVIRT_FIXTURE = root('hypervisor-agent/test/fixtures/node.xml');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface StackOptions {
  /** Extra bmc-oem flags (e.g. a small --queue-capacity). */
  bmcArgs?: string[];
  /** Told each set-up step in plain words (the demo prints them). */
  narrate?: (step: string) => void;
  /** libvirt test-driver node file for the hypervisor-agent (default: the 3-domain fixture). */
  libvirtFixture?: string;
  /**
   * Called once bmc-oem listens: returns the ports vms-agent (RMCP+, UDP) and the
   * hypervisor-agent (VM protocol, TCP) should use instead, e.g. fault proxies in front
   * of bmc-oem. Default: bmc-oem's own ports.
   */
  route?: (bmc: { rmcpPort: number; vmPort: number }) => Promise<{ rmcpPort: number; vmPort: number }>;
  /**
   * Where the hypervisor-agent runs: by default a local process on the VM-protocol
   * link. The in-band guest test sets `link: 'ipmi:///dev/ipmi0'`, a state dir inside
   * the guest and `start: false`, then runs the agent in the guest from `agentDir`.
   */
  agent?: { link?: string; stateDir?: string; start?: boolean; env?: NodeJS.ProcessEnv };
  /** vms-agent store: a postgres:// URL (several `serve` replicas can share it); default a SQLite file in the stack's directory. */
  db?: string;
  /** Extra vms-agent config file keys (e.g. linkLeaseMs). */
  vmsConfig?: Record<string, unknown>;
  /** Extra hypervisor-agent config keys (e.g. reportIntervalSeconds). */
  agentConfig?: Record<string, unknown>;
}

export class VmsAgentStack {
  readonly dir: string;
  readonly #options: StackOptions;
  rmcpPort = 0;
  vmPort = 0;
  bmc!: ManagedProcess;
  agent!: ManagedProcess;
  vms!: ManagedProcess;
  url = '';
  /** Every `vms-agent serve` started (stopped with the stack). */
  readonly #vmsProcs: ManagedProcess[] = [];
  readonly tokens: Record<string, string> = {};
  readonly publicKeys: Record<string, string> = {};

  constructor(options: StackOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'vms-agent-e2e-'));
    this.#options = options;
  }

  /** The hypervisor-agent's config directory (agent.json, seed, host.key, policy.json). */
  get agentDir(): string {
    return join(this.dir, 'agent');
  }

  get bobKeyFile(): string {
    return join(this.dir, 'bob.key');
  }

  /** `vms-agent ARGS` with this stack's config file, URL and (optionally) a principal's token. */
  cli(args: string[], as?: string): Promise<CliResult> {
    const extra = ['--config', join(this.dir, 'vms-agent.json'), ...(this.url ? ['--url', this.url] : []), ...(as ? ['--token', this.tokens[as]!] : [])];
    return run(process.execPath, [VMS_AGENT_MAIN, ...args, ...extra]);
  }

  async cliJson<T>(args: string[], as?: string): Promise<T> {
    const r = await this.cli([...args, '--json'], as);
    if (r.code !== 0) throw new Error(`vms-agent ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  async start(): Promise<void> {
    const d = this.dir;
    const say = this.#options.narrate ?? (() => undefined);
    writeFileSync(join(d, 'bmc.pw'), 'oper-secret\n', { mode: 0o600 });
    await this.startBmc('127.0.0.1:0', 'tcp:127.0.0.1:0');
    say(`bmc-oem is up: RMCP+ on udp 127.0.0.1:${this.rmcpPort} (user "oper", operator), VM-protocol system interface on tcp 127.0.0.1:${this.vmPort}`);
    const { rmcpPort, vmPort } = this.#options.route ? await this.#options.route({ rmcpPort: this.rmcpPort, vmPort: this.vmPort }) : this;

    writeFileSync(
      join(d, 'vms-agent.json'),
      JSON.stringify({ db: this.#options.db ?? join(d, 'vms.db'), masterKeyFile: join(d, 'master.key'), pollMinMs: 20, pollMaxMs: 200, logLevel: 'warn', ...this.#options.vmsConfig }),
    );
    await this.must(['keygen', '--master-key', '--out', join(d, 'master.key')]);
    say(`vms-agent: master key for secrets at rest created (0600), store is ${this.#options.db ? 'PostgreSQL' : 'SQLite'}`);
    for (const name of ['alice', 'mallory']) this.publicKeys[name] = (await this.cliJson<{ publicKey: string }>(['principals', 'add', name, '--custodial'])).publicKey;
    this.publicKeys.bob = (await this.cliJson<{ publicKey: string }>(['keygen', '--out', this.bobKeyFile])).publicKey;
    await this.must(['principals', 'add', 'bob', '--public-key', this.publicKeys.bob]);
    // sec is the security team: reads and acknowledges alerts, issues nothing (docs/security.md "Roles").
    await this.must(['principals', 'add', 'sec', '--custodial', '--roles', 'security,viewer']);
    for (const name of ['alice', 'bob', 'mallory', 'sec']) this.tokens[name] = (await this.cliJson<{ token: string }>(['tokens', 'create', name])).token;
    say('principals: alice (key held by vms-agent, custodial), bob (operator-held key file, vms-agent never sees it), mallory (custodial), each with the default roles operator, approver, viewer; sec (security team: reads and acknowledges alerts); an API token each');
    await this.must(['hosts', 'add', 'hv-01', '--bmc', `127.0.0.1:${rmcpPort}`, '--user', 'oper', '--password-file', join(d, 'bmc.pw')]);
    await this.must(['hosts', 'enrollment', 'hv-01', '--out', join(d, 'hv-01.bundle.json')]);
    say('host hv-01 added to vms-agent with its BMC address; enrollment bundle (random 32-byte seed, manager keys) written 0600');

    const a = join(d, 'agent');
    mkdirSync(a);
    // alice and bob are admins; mallory is known to vms-agent but not to this host's policy.
    writeFileSync(
      join(a, 'policy.json'),
      JSON.stringify({
        version: 1,
        principals: { alice: { publicKeys: [this.publicKeys.alice], roles: ['admin'] }, bob: { publicKeys: [this.publicKeys.bob], roles: ['admin'] } },
        roles: { admin: { actions: ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'], domains: ['*'] } },
        approvals: [{ actions: ['suspend'], domains: ['web-*'], required: 2, approvers: ['alice', 'bob'] }],
        challengeTtlSeconds: 120,
      }),
      { mode: 0o600 },
    );
    writeFileSync(
      join(a, 'agent.json'),
      JSON.stringify({
        hostId: 'hv-01', link: this.#options.agent?.link ?? `vm+tcp://127.0.0.1:${vmPort}`, libvirtUri: `test://${this.#options.libvirtFixture ?? LIBVIRT_FIXTURE}`, seedFile: 'seed', hostKeyFile: 'host.key',
        policyFile: 'policy.json', stateDir: this.#options.agent?.stateDir ?? 'state', poll: { minMs: 20, maxMs: 200 }, reportIntervalSeconds: 2, statePollSeconds: 1, logLevel: 'info', ...this.#options.agentConfig,
      }),
    );
    const keygen = await run(process.execPath, [HYPERVISOR_AGENT_MAIN, 'keygen', '--config', join(a, 'agent.json')]);
    const hostKey = /ed25519:[A-Za-z0-9+/=]+/.exec(keygen.stdout)?.[0];
    if (keygen.code !== 0 || !hostKey) throw new Error(`hypervisor-agent keygen failed: ${keygen.stdout}${keygen.stderr}`);
    await this.must(['hosts', 'set-host-key', 'hv-01', hostKey]);
    const enroll = await run(process.execPath, [HYPERVISOR_AGENT_MAIN, 'enroll', join(d, 'hv-01.bundle.json'), '--config', join(a, 'agent.json')]);
    if (enroll.code !== 0) throw new Error(`hypervisor-agent enroll failed: ${enroll.stderr}`);
    say('hypervisor-agent: host key generated and registered with vms-agent, bundle enrolled; policy: alice and bob may do anything, suspend on web-* needs 2 of alice+bob, mallory is not in it');
    if (this.#options.agent?.start === false) {
      await this.startVms();
      return;
    }
    await this.startAgent();
    say(`hypervisor-agent is up: libvirt test driver (${LIBVIRT_FIXTURE.split('/').slice(-3).join('/')}), link to the BMC over the VM protocol`);
    await this.startVms();
    say(`vms-agent serve is up: REST API at ${this.url}`);
  }

  /** Starts bmc-oem; the ports are read back from its "listening" line. */
  async startBmc(listen: string, vmListen: string): Promise<void> {
    mkdirSync(join(this.dir, 'bmc-state'), { recursive: true });
    this.bmc = await ManagedProcess.start({
      name: 'bmc-oem',
      command: process.execPath,
      args: [BMC_OEM_MAIN_PATH, '--listen', listen, '--user', `oper:operator:${join(this.dir, 'bmc.pw')}`, '--vm-listen', vmListen, '--state-dir', join(this.dir, 'bmc-state'), '--log-level', 'info', ...(this.#options.bmcArgs ?? [])],
      readyWhen: /"msg":"listening"/,
    });
    this.rmcpPort = Number(/"rmcp":"127\.0\.0\.1:(\d+)"/.exec(this.bmc.output)?.[1]);
    this.vmPort = Number(/"vm":\["tcp:127\.0\.0\.1:(\d+)"/.exec(this.bmc.output)?.[1]);
  }

  /** Stops bmc-oem and starts it again on the same ports; without its state dir it comes back with empty queues and new epochs. */
  async restartBmc(keepState: boolean): Promise<void> {
    await this.bmc.stop();
    if (!keepState) rmSync(join(this.dir, 'bmc-state'), { recursive: true, force: true });
    await this.startBmc(`127.0.0.1:${this.rmcpPort}`, `tcp:127.0.0.1:${this.vmPort}`);
  }

  async startAgent(): Promise<void> {
    this.agent = await ManagedProcess.start({
      name: 'hypervisor-agent',
      command: process.execPath,
      args: [HYPERVISOR_AGENT_MAIN, '--config', join(this.dir, 'agent', 'agent.json')],
      // e.g. libfaketime's LD_PRELOAD and FAKETIME: the hypervisor's clock shifted (test/test/link)
      env: { ...process.env, ...this.#options.agent?.env },
      readyWhen: /BMC link up/,
    });
    const proc = this.agent;
    this.#agentOutputs.push(() => proc.output);
  }

  readonly #agentOutputs: (() => string)[] = [];

  /** Starts (or restarts) `vms-agent serve` on a fresh port. */
  async startVms(): Promise<void> {
    const { proc, url } = await this.spawnVms();
    this.vms = proc;
    this.url = url;
  }

  /** Starts one more `vms-agent serve` on this stack's store and config (a replica, with a PostgreSQL store); returns it and its API URL. */
  async spawnVms(name = 'vms-agent'): Promise<{ proc: ManagedProcess; url: string }> {
    const proc = await ManagedProcess.start({
      name,
      command: process.execPath,
      args: [VMS_AGENT_MAIN, 'serve', '--listen', '127.0.0.1:0', '--config', join(this.dir, 'vms-agent.json')],
      env: { ...process.env, BACKCHANNEL_LOG_LEVEL: 'info' },
      readyWhen: /"address":"(http:\/\/127\.0\.0\.1:\d+)"/,
    });
    this.#vmsProcs.push(proc);
    const all = [...proc.output.matchAll(/"address":"(http:\/\/127\.0\.0\.1:\d+)"/g)];
    return { proc, url: all.at(-1)![1]! };
  }

  async must(args: string[]): Promise<void> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`vms-agent ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }

  async api<T>(method: 'GET' | 'POST', path: string, as: string, body?: unknown): Promise<{ status: number; json: T }> {
    return this.apiAt<T>(this.url, method, path, as, body);
  }

  /** The API of the `serve` at `url` (another replica). */
  async apiAt<T>(url: string, method: 'GET' | 'POST', path: string, as: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${this.tokens[as]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  /** Polls GET /v1/commands/{id} until `done` holds. */
  async waitCommand<T extends { state: string }>(id: string, done: (c: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await this.api<T>('GET', `/v1/commands/${id}`, 'alice');
      if (done(json)) return json;
      if (Date.now() > deadline) throw new Error(`command ${id} still ${json.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** How many times the hypervisor-agent logged applying request `id`. */
  appliedCount(id: string): number {
    return this.#agentOutputs.map((o) => o()).join('\n').split('\n').filter((l) => l.includes('applying action') && l.includes(`"requestId":"${id}"`)).length;
  }

  readAgentPolicy(): string {
    return readFileSync(join(this.dir, 'agent', 'policy.json'), 'utf8');
  }

  async stop(): Promise<void> {
    // Every process is stopped (settled) before the dir they write into is removed, and the dir
    // goes even if a stop failed.
    const stopped = await Promise.allSettled([...this.#vmsProcs.map((p) => p.stop()), this.agent?.stop(), this.bmc?.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
    for (const s of stopped) if (s.status === 'rejected') throw s.reason;
  }
}
