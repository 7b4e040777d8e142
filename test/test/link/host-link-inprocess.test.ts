/**
 * vms-agent's HostLink in one process against bmc-oem's real QueueEngine (a
 * session that hands each IPMI request to the engine's LAN side) and a host
 * peer made of proto's channel (sealRecords, InboundChannel) on the system
 * side, with a real SQLite store and CommandService. No sockets, no spawned
 * processes: the link's reactions to the host's clock, to refused
 * credentials and to a foreign producer, each in a few hundred ms.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEngine } from '@backchannel/bmc-oem';
import {
  type Body,
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  Direction,
  encodeOemRequest,
  encodePublicKey,
  EnvelopeKeys,
  generateSigningKeyPair,
  InboundChannel,
  OemCommand,
  QueueId,
  sealRecords,
} from '@backchannel/proto';
import { type BmcConnector, CommandService, HostLink, SecretBox, SqliteStore } from '@backchannel/vms-agent';
import { RmcpAuthError } from '@backchannel/vms-agent/rmcp';
import { afterEach, describe, expect, it } from 'vitest';

const IANA = 32473;
const SEED = new Uint8Array(32).fill(7);
const OPERATOR = 3;
const rng = (n: number) => new Uint8Array(randomBytes(n));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alice = generateSigningKeyPair(rng);

/** The hypervisor side of the queues, in process: what the hypervisor-agent's channel does, without libvirt. */
class HostPeer {
  readonly inbound = new InboundChannel({ keys: new EnvelopeKeys(SEED, 'hv-01'), receiveDirection: Direction.DIRECTION_TO_HOST });
  readonly keys = new EnvelopeKeys(SEED, 'hv-01');
  readonly events: string[] = [];
  #commit = 0;
  #nextId = 1;
  constructor(
    readonly engine: QueueEngine,
    readonly clockMs: () => number,
  ) {}

  send(body: Body): void {
    const records = sealRecords({ keys: this.keys, sendDirection: Direction.DIRECTION_TO_MANAGER, maxRecord: 200, randomBytes: rng }, this.#nextId++, { ...body, ack: this.inbound.ack() }, this.clockMs());
    for (const record of records) {
      const info = decodeQueueInfoResponse(this.engine.handle(OemCommand.GetQueueInfo, 'system', 0, encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue: QueueId.ToManager })).data);
      const r = this.engine.handle(OemCommand.PutRecord, 'system', 0, encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToManager, seq: info.lastPutSeq + 1, record }));
      if (r.cc !== 0) throw new Error(`host put cc ${r.cc}`);
    }
  }

  /** Reads queue 1 until it is empty; returns what was delivered. */
  read(): Body[] {
    const out: Body[] = [];
    for (;;) {
      const r = this.engine.handle(OemCommand.GetRecord, 'system', 0, encodeOemRequest({ kind: 'get-record', iana: IANA, queue: QueueId.ToHost, commitSeq: this.#commit }));
      const got = decodeGetRecordResponse(r.data);
      if (got.seq === 0) return out;
      this.#commit = got.seq;
      const ev = this.inbound.pushRecord(got.record, this.clockMs());
      if (ev) this.events.push(ev.kind === 'rejected' ? ev.code : ev.kind);
      if (ev?.kind === 'delivered') out.push(ev.body);
    }
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: { connector?: BmcConnector; hostClockMs?: () => number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'host-link-'));
  const store = new SqliteStore({ path: join(dir, 'vms.db'), secrets: new SecretBox(rng(32), rng) });
  const engine = new QueueEngine({ iana: IANA, randomBytes: rng });
  const hostInput = { id: 'hv-01', bmcAddress: '127.0.0.1', bmcPort: 623, bmcUser: 'oper', bmcPassword: 'right', bmcPrivilege: 'operator' as const, cipherSuites: [17], iana: IANA, seed: SEED };
  await store.addHost(hostInput, Date.now());
  await store.addPrincipal({ name: 'alice', publicKey: encodePublicKey(alice.publicKey), secretKey: alice.secretKey.subarray(0, 32) }, Date.now());
  const ref: { link?: HostLink } = {};
  const commands = new CommandService({ store, clock: Date.now, randomBytes: rng, wake: () => ref.link?.wake() });
  const connector: BmcConnector = options.connector ?? (async () => ({ request: async (_netfn, cmd, data) => engine.handle(cmd, 'lan', OPERATOR, data), close: async () => undefined }));
  const link = new HostLink({ hostId: 'hv-01', store, commands, connector, clock: Date.now, randomBytes: rng, random: Math.random, tuning: { pollMinMs: 5, pollMaxMs: 20, ackDelayMs: 10 } });
  ref.link = link;
  const host = new HostPeer(engine, options.hostClockMs ?? Date.now);
  cleanups.push(async () => {
    await link.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, engine, link, host, commands, hostInput };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

describe('HostLink in process (QueueEngine, SQLite, proto host peer)', () => {
  it('learns a host clock 10 minutes ahead from its messages and shows it in health', async () => {
    const { link, host } = await setup({ hostClockMs: () => Date.now() + 600_000 });
    link.start();
    await until('the manager Hello reaches the host', () => host.read().some((b) => b.hello));
    host.send({ statusReport: { hostId: 'hv-01', timeMs: Date.now() + 600_000, reportSeq: 1 } });
    await until('an offset is learned', () => typeof link.health().clockOffsetMs === 'number');
    expect(link.health().state).toBe('up');
    expect(Math.abs((link.health().clockOffsetMs ?? 0) - 600_000)).toBeLessThan(1_000);
  });

  it('a host clock two hours ahead is link state clock_skew with the offset, and recovers when the clock is fixed', async () => {
    let ahead = 2 * 3_600_000;
    const { link, host } = await setup({ hostClockMs: () => Date.now() + ahead });
    link.start();
    await until('link up', () => link.health().state === 'up');
    host.send({ statusReport: { hostId: 'hv-01', timeMs: 1, reportSeq: 1 } });
    await until('clock_skew', () => link.health().state === 'clock_skew');
    expect(link.health().lastError).toMatch(/^the host's clock is 2 h 0 min ahead of the manager's, beyond the channel's tolerance of 15 min/);
    expect(Math.abs((link.health().clockOffsetMs ?? 0) - 7_200_000)).toBeLessThan(1_000);
    ahead = 30_000; // NTP is back
    host.send({ statusReport: { hostId: 'hv-01', timeMs: 2, reportSeq: 2 } });
    await until('up again', () => link.health().state === 'up');
    expect(link.health()).toMatchObject({ lastError: null });
  });

  it('a refused login is tried once, not again until the credentials in the store change', async () => {
    let attempts = 0;
    const ref: { engine?: QueueEngine } = {};
    const connector: BmcConnector = async (t) => {
      attempts++;
      if (t.password !== 'new-right') throw new RmcpAuthError('bad-password', 'RAKP 2 does not verify: wrong password for the user');
      return { request: async (_netfn, cmd, data) => ref.engine!.handle(cmd, 'lan', OPERATOR, data), close: async () => undefined };
    };
    const { link, store, engine, hostInput } = await setup({ connector });
    ref.engine = engine;
    link.start();
    await until('auth_failed', () => link.health().state === 'auth_failed');
    expect(link.health().lastError).toMatch(/^wrong BMC password: not retried/);
    await sleep(2_500); // more than one credentials check
    expect(attempts).toBe(1);
    // The operator puts the right password in (here: the host re-added with it).
    await store.removeHost('hv-01');
    await store.addHost({ ...hostInput, bmcPassword: 'new-right' }, Date.now());
    await until('up with the new password', () => link.health().state === 'up', 10_000);
    expect(attempts).toBe(2);
  });

  it('a foreign producer on queue 1: detected at the next put, resynchronised at once, alert naming the host', async () => {
    const { link, host, engine, commands, store } = await setup();
    link.start();
    await until('the manager Hello reaches the host', () => host.read().some((b) => b.hello));
    // Someone with the operator password puts three records where the link would put next.
    for (let i = 0; i < 3; i++) {
      const info = decodeQueueInfoResponse(engine.handle(OemCommand.GetQueueInfo, 'lan', OPERATOR, encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue: QueueId.ToHost })).data);
      const r = engine.handle(OemCommand.PutRecord, 'lan', OPERATOR, encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToHost, seq: info.lastPutSeq + 1, record: Uint8Array.of(0xde, 0xad) }));
      expect(decodePutRecordResponse(r.data).lastPutSeq).toBe(info.lastPutSeq + 1);
    }
    const c = await commands.issue({ principal: 'alice', hostId: 'hv-01', domain: 'web-1', action: 'domain_info' });
    const got: Body[] = [];
    await until('the command request reaches the host', () => (got.push(...host.read()), got.some((b) => b.commandRequest?.requestId === c.id)));
    // The foreign records reached the host as what they are; the request came whole, once.
    expect(host.events.filter((e) => e === 'ERR_FRAGMENT_MALFORMED')).toHaveLength(3);
    expect(got.filter((b) => b.commandRequest?.requestId === c.id)).toHaveLength(1);
    const alerts = await store.listAlerts({ kind: 'foreign_producer' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ hostId: 'hv-01', signatureStatus: 'manager' });
    expect(alerts[0]!.reason).toMatch(/another producer put records on BMC queue 1 of host hv-01 \(Put Record of seq \d+ answered last_put_seq \d+; 3 foreign record/);
  });
});
