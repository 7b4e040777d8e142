/**
 * The replica suite's world, every part real: a throwaway PostgreSQL
 * server, the hosts (real bmc-oem daemons and hypervisor-agents, several
 * per process: replica-fleet.ts), and `vms-agent serve` replicas, each
 * reaching PostgreSQL through its own FreezableProxy so any one can be cut
 * off from the database without stopping it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodePublicKey, generateSigningKeyPair } from '@backchannel/proto';
import { formatMasterKey, hashToken, newToken, PostgresStore, SecretBox } from '@backchannel/vms-agent';
import { ManagedProcess } from '../harness/managed-process.js';
import { type PostgresServer, startPostgres } from '../harness/postgres.js';
import { VMS_AGENT_MAIN } from '../vms-agent-e2e/stack.js';
import { FreezableProxy } from './freezable-proxy.js';
import type { FleetCounts, FleetHost, ReplicaFleetOptions } from './replica-fleet.js';

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));
const FLEET_MAIN = fileURLToPath(new URL('../../dist/replicas/replica-fleet-main.js', import.meta.url));

/** The hosts' child process, speaking replica-fleet-main's line protocol. */
class FleetProcess {
  readonly child: ChildProcess;
  readonly #waiters: ((msg: Record<string, unknown>) => void)[] = [];
  #stderr = '';

  constructor(optionsFile: string) {
    this.child = spawn(process.execPath, [FLEET_MAIN, optionsFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{"ready"') && !line.startsWith('{"counts"')) return; // the daemons' own log lines
      this.#waiters.shift()?.(JSON.parse(line) as Record<string, unknown>);
    });
  }

  next(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`replica fleet did not answer within ${timeoutMs} ms: ${this.#stderr}`)), timeoutMs);
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  async counts(): Promise<FleetCounts> {
    const reply = this.next(30_000);
    this.child.stdin!.write('counts\n');
    return (await reply).counts as FleetCounts;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end('stop\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface Replica {
  name: string;
  proc: ManagedProcess;
  url: string;
  proxy: FreezableProxy;
}

export interface ClusterOptions {
  hosts: number;
  /** Extra vms-agent config keys for every replica. */
  vmsConfig?: Record<string, unknown>;
}

export class ReplicaCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'replicas-'));
  readonly replicas = new Map<string, Replica>();
  pg!: PostgresServer;
  dbName = '';
  token = '';
  hosts: FleetHost[] = [];
  #fleet!: FleetProcess;
  #dbUrl = '';
  #masterKeyFile = '';
  #vmsConfig: Record<string, unknown> = {};

  static async start(o: ClusterOptions): Promise<ReplicaCluster> {
    const c = new ReplicaCluster();
    try {
      await c.#start(o);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  async #start(o: ClusterOptions): Promise<void> {
    this.#vmsConfig = o.vmsConfig ?? {};
    this.pg = await startPostgres();
    this.#dbUrl = await this.pg.createDatabase();
    this.dbName = new URL(this.#dbUrl).pathname.slice(1);
    const alice = generateSigningKeyPair(randomBytes);
    const fleetOptions: ReplicaFleetOptions = { count: o.hosts, dir: join(this.dir, 'hosts'), bmcUser: 'oper', bmcPassword: 'oper-replica-pw', admins: { alice: encodePublicKey(alice.publicKey) } };
    writeFileSync(join(this.dir, 'fleet.json'), JSON.stringify(fleetOptions));
    this.#fleet = new FleetProcess(join(this.dir, 'fleet.json'));
    this.hosts = (await this.#fleet.next(120_000)).ready as FleetHost[];

    const masterKey = randomBytes(32);
    this.#masterKeyFile = join(this.dir, 'master.key');
    writeFileSync(this.#masterKeyFile, formatMasterKey(masterKey), { mode: 0o600 });
    const store = await PostgresStore.open({ url: this.#dbUrl, secrets: new SecretBox(masterKey, randomBytes) });
    try {
      const now = Date.now();
      await store.addPrincipal({ name: 'alice', publicKey: encodePublicKey(alice.publicKey), secretKey: alice.secretKey.subarray(0, 32) }, now);
      this.token = newToken(randomBytes);
      await store.addToken({ hash: hashToken(this.token), principal: 'alice', label: 'replica suite' }, now);
      for (const h of this.hosts) {
        await store.addHost(
          { id: h.id, bmcAddress: '127.0.0.1', bmcPort: h.rmcpPort, bmcUser: 'oper', bmcPassword: 'oper-replica-pw', bmcPrivilege: 'operator', cipherSuites: [17], iana: 32473, seed: new Uint8Array(Buffer.from(h.seed, 'base64')), hostPublicKey: h.hostPublicKey },
          now,
        );
      }
    } finally {
      await store.close();
    }
  }

  /** Starts `vms-agent serve` NAME, its database path through its own proxy. */
  async addReplica(name: string): Promise<Replica> {
    const proxy = await FreezableProxy.start(this.pg.port);
    const db = this.#dbUrl.replace(`:${this.pg.port}/`, `:${proxy.port}/`);
    const configFile = join(this.dir, `vms-${name}.json`);
    writeFileSync(configFile, JSON.stringify({ db, masterKeyFile: this.#masterKeyFile, pollMinMs: 50, pollMaxMs: 500, ...this.#vmsConfig }));
    const proc = await ManagedProcess.start({
      name: `vms-agent-${name}`,
      command: process.execPath,
      args: [VMS_AGENT_MAIN, 'serve', '--listen', '127.0.0.1:0', '--config', configFile],
      env: { ...process.env, BACKCHANNEL_LOG_LEVEL: 'info' },
      readyWhen: /"address":"(http:\/\/127\.0\.0\.1:\d+)"/,
      readyTimeoutMs: 60_000,
    });
    const url = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(proc.output)![1]!;
    const r = { name, proc, url, proxy };
    this.replicas.set(name, r);
    return r;
  }

  /** Replicas whose process runs (SIGSTOPped ones included). */
  live(): Replica[] {
    return [...this.replicas.values()].filter((r) => !r.proc.exited);
  }

  /** Live leases per replica name (by the pid in the owner name), from the database. */
  async shares(): Promise<Record<string, number>> {
    const rows = (await this.pg.psql("SELECT owner, count(*) FROM link_leases WHERE owner <> '' AND expires_at > clock_timestamp() GROUP BY owner", this.dbName)).trim();
    const out: Record<string, number> = {};
    for (const r of this.live()) out[r.name] = 0;
    for (const line of rows ? rows.split('\n') : []) {
      const [owner, n] = line.split('|');
      const pid = Number(owner!.split(':').at(-2));
      const r = [...this.replicas.values()].find((x) => x.proc.pid === pid);
      out[r?.name ?? owner!] = (out[r?.name ?? owner!] ?? 0) + Number(n);
    }
    return out;
  }

  /**
   * Waits until the live leases are spread over exactly `names`, each within ±1 of an even
   * share (floor or ceil of hosts / names), every host leased; returns the shares.
   */
  async waitBalanced(names: string[], timeoutMs = 30_000): Promise<Record<string, number>> {
    const n = this.hosts.length;
    const lo = Math.floor(n / names.length);
    const hi = Math.ceil(n / names.length);
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, number> = {};
    for (;;) {
      last = await this.shares();
      const ok = Object.entries(last).every(([k, v]) => (names.includes(k) ? v >= lo && v <= hi : v === 0)) && names.reduce((s, k) => s + (last[k] ?? 0), 0) === n;
      if (ok) return last;
      if (Date.now() > deadline) {
        const died = [...this.replicas.values()]
          .filter((r) => names.includes(r.name))
          .map((r) => `--- ${r.name}${r.proc.exited ? ' (exited)' : ''}:\n${r.proc.output.split('\n').filter((l) => /"level":(40|50|60)|Error|exit/.test(l)).slice(-12).join('\n')}`);
        throw new Error(`leases not balanced over ${names.join(', ')} within ${timeoutMs} ms: ${JSON.stringify(last)}\n${died.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  counts(): Promise<FleetCounts> {
    return this.#fleet.counts();
  }

  async api<T>(r: Replica, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; json: T; headers: Headers }> {
    const res = await fetch(r.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, json: (await res.json()) as T, headers: res.headers };
  }

  async stop(): Promise<void> {
    for (const r of this.replicas.values()) {
      r.proxy.thaw();
      try {
        process.kill(r.proc.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await Promise.allSettled([...this.replicas.values()].map((r) => r.proc.stop(3_000)));
    await Promise.allSettled([...this.replicas.values()].map((r) => r.proxy.close()));
    await this.#fleet?.stop().catch(() => undefined);
    await this.pg?.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
