/**
 * Deterministic simulation of the whole link (issue 18): both link cores
 * (manager and host role) driven by the simulated agents of link-party.ts,
 * bmc-oem's real QueueEngine between them, a lossy LAN with partitions
 * between the manager and the BMC, a system interface between the BMC and
 * the host, clocks per party with skew and drift, crashes of the manager,
 * the host and the BMC with exactly their durable state kept, and a command
 * model on top: the manager issues commands, the host applies each request
 * id at most once (journal: a repeated request returns the stored result)
 * and answers with the result, the manager marks the command final.
 * Challenges and signatures are left out (they are one more round trip of
 * the same channel, proven by the agents' own tests).
 *
 * One seed → one run, bit for bit: every choice, clock, IV and epoch comes
 * from the seed. Invariants after the run: every command final, none lost,
 * none applied twice, every result matches its request, and no alert (held
 * back, clock, decryption failure, malformed record, foreign producer) unless
 * the schedule injected the attack that explains it. docs/simulation.md.
 */
import { type backchannel, type Body, decodeQueueInfoResponse, encodeOemRequest, EnvelopeKeys, OemCommand, Outcome, QueueId } from '@backchannel/proto';
import { seededRandom } from '../faults/seeded-random.js';
import { DEFAULT_LINK_SIM, type LinkSimOptions, type LinkSimReport } from './link-sim-options.js';
import { type AppHandler, emptyStore, type Observer, Party, type PartyStore, type Transport } from './link-party.js';
import { EventLoop, inIntervals, type NetProfile, PartyClock, partitionSchedule, SimBmc, Wire } from './sim-world.js';

export { DEFAULT_LINK_SIM, type LinkSimOptions, type LinkSimReport } from './link-sim-options.js';

interface ManagerApp {
  commands: Map<string, { action: number; domain: string; final: boolean; detail?: string }>;
}
interface HostApp {
  journal: Map<string, { action: number; domain: string; detail: string }>;
}

const IANA = 32473;
const OPERATOR = 3;
const SEED = new Uint8Array(32).fill(0x5a);
const DOMAINS = ['web-1', 'web-2', 'db-1', 'cache-1', 'batch-7'];
/** Alerts a schedule's attack explains. */
const EXPLAINED: Record<LinkSimOptions['attack'], string[]> = { none: [], 'foreign-put': ['foreign_producer', 'malformed_record', 'decryption_failed'], replay: ['foreign_producer', 'replay'] };

function cloneManagerStore(s: PartyStore<ManagerApp>): PartyStore<ManagerApp> {
  return {
    ...s,
    outbox: new Map(s.outbox),
    window: s.window && { ...s.window, bitmap: Uint8Array.from(s.window.bitmap) },
    peer: s.peer && { ...s.peer, incarnations: [...s.peer.incarnations] },
    held: [...s.held],
    cursor: { ...s.cursor },
    seen: new Map(s.seen),
    app: { commands: new Map([...s.app.commands].map(([k, v]) => [k, { ...v }])) },
  };
}

export function resultDetail(action: number, domain: string, requestId: string): string {
  return `${action}:${domain}:${requestId}`;
}

export function runLinkSim(seed: number, options: Partial<LinkSimOptions> = {}): LinkSimReport {
  const o: LinkSimOptions = { ...DEFAULT_LINK_SIM, ...options };
  const rnd = seededRandom(seed);
  const randomBytes = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
  const loop = new EventLoop();
  const counters: Record<string, number> = {};
  const alerts: Record<string, number> = {};
  const violations: string[] = [];
  const alertLines: string[] = [];
  const observer: Observer = {
    count: (what, n = 1) => void (counters[what] = (counters[what] ?? 0) + n),
    alert: (kind, detail) => {
      alerts[kind] = (alerts[kind] ?? 0) + 1;
      if (alertLines.length < 5) alertLines.push(`${kind} at ${loop.now} ms: ${detail}`);
    },
  };

  // --- the schedule, all from the seed ---
  const t0 = Date.UTC(2026, 11, 3) + Math.floor(rnd() * 86_400_000);
  const skewMs = Math.round((rnd() * 2 - 1) * o.maxSkewMs);
  const drift = { manager: (rnd() * 2 - 1) * o.maxDriftPpm, host: (rnd() * 2 - 1) * o.maxDriftPpm };
  const clocks = { manager: new PartyClock(t0, 0, drift.manager), host: new PartyClock(t0, skewMs, drift.host) };
  const bmcDurable = o.bmcDurable === 'seeded' ? rnd() < 0.5 : o.bmcDurable;
  const issueAt: number[] = [];
  for (let i = 0, t = 0; i < o.commands; i++) issueAt.push((t += Math.floor(rnd() * 2 * o.commandGapMs)));
  const activeMs = (issueAt.at(-1) ?? 0) + 60_000;
  const partitions = partitionSchedule(rnd, activeMs, Math.floor(rnd() * (o.maxPartitions + 1)), o.maxPartitionMs);
  const crashPlan = (max: number, maxDown: number) => {
    const n = Math.floor(rnd() * (max + 1));
    return Array.from({ length: n }, () => ({ at: Math.floor(rnd() * activeMs), downMs: 100 + Math.floor(rnd() * maxDown) })).sort((a, b) => a.at - b.at);
  };
  const crashes = { manager: crashPlan(o.maxCrashes.manager, o.maxDownMs.manager), host: crashPlan(o.maxCrashes.host, o.maxDownMs.host), bmc: crashPlan(o.maxCrashes.bmc, o.maxDownMs.bmc) };
  const attackAt = o.attack === 'none' ? undefined : Math.floor(activeMs * (0.2 + rnd() * 0.5));

  // --- the BMC and the wires ---
  const bmc = new SimBmc({ iana: IANA, capacityBytes: 65536, durable: bmcDurable, randomBytes });
  const lan: NetProfile = o.fixedLan ? o.lan : { ...o.lan, loss: o.lan.loss * rnd(), dup: o.lan.dup * rnd() };
  const lanDown = (t: number) => inIntervals(partitions, t);
  const wires = {
    lanUp: new Wire(loop, rnd, lan, lanDown),
    lanDown: new Wire(loop, rnd, lan, lanDown),
    sysUp: new Wire(loop, rnd, o.system),
    sysDown: new Wire(loop, rnd, o.system),
  };
  let sessions = 0;
  const captured: Uint8Array[] = [];
  const transport = (side: 'lan' | 'system'): Transport => {
    const up = side === 'lan' ? wires.lanUp : wires.sysUp;
    const down = side === 'lan' ? wires.lanDown : wires.sysDown;
    // RMCP+ session setup is two round trips (Open Session, RAKP 1–4); the system interface needs one probe.
    const roundTrips = side === 'lan' ? 2 : 1;
    return {
      connect(done) {
        let finished = false;
        const id = `${side}-${++sessions}`;
        loop.after(o.tuning.requestTimeoutMs * (o.tuning.retries + 1), () => {
          if (finished) return;
          finished = true;
          done(undefined);
        });
        const trip = (left: number) =>
          up.send(() => {
            if (!bmc.engine) return;
            const boot = bmc.boot;
            down.send(() => {
              if (finished) return;
              if (left > 1) return trip(left - 1);
              finished = true;
              done({ id, boot });
            });
          });
        trip(roundTrips);
      },
      request(session, packetSeq, cmd, data, answer) {
        // What someone on the BMC sees go into queue 1 (the records; RMCP+ protects only the LAN hop).
        if (side === 'lan' && cmd === OemCommand.PutRecord) {
          captured.push(data.slice(8));
          if (captured.length > 64) captured.shift();
        }
        up.send(() => {
          const r = bmc.request(session, packetSeq, cmd, side, OPERATOR, data);
          if (r) down.send(() => answer(r));
        });
      },
    };
  };

  // --- the applications ---
  const expected = new Map<string, { action: number; domain: string }>();
  const applied = new Map<string, number>();
  let finals = 0;
  /** Commands a restored manager store no longer has (issued after its backup). */
  const forgotten = new Set<string>();
  const managerApp: AppHandler<ManagerApp> = {
    deliver(body, app) {
      if (!body.commandResult) return;
      const r = body.commandResult as backchannel.v1.CommandResult;
      const c = app.commands.get(r.requestId);
      if (!c && forgotten.has(r.requestId)) return void observer.count('manager.results_for_forgotten');
      if (!c) return void violations.push(`result for a request the manager never issued: ${r.requestId}`);
      if (r.outcome !== Outcome.OUTCOME_APPLIED || r.domainName !== c.domain || r.detail !== resultDetail(c.action, c.domain, r.requestId)) {
        violations.push(`result of ${r.requestId} does not match its request: ${r.domainName} ${r.detail}`);
      }
      o.trace?.(`${loop.now} manager result for ${r.requestId}${c.final ? ' (again)' : ''}`);
      if (c.final) return void observer.count('manager.repeated_results');
      c.final = true;
      c.detail = r.detail;
      finals++;
    },
  };
  const hostApp: AppHandler<HostApp> = {
    deliver(body, app, enqueue, now) {
      if (!body.commandRequest) return;
      const q = body.commandRequest as backchannel.v1.CommandRequest;
      let j = app.journal.get(q.requestId);
      o.trace?.(`${loop.now} host request ${q.requestId}${j ? ' (journaled: the stored result again)' : ''}`);
      if (j) observer.count('host.repeated_requests');
      if (!j) {
        // The effect (libvirt) and the journal entry: one unit, like the agent's journal-before-ack.
        j = { action: q.action, domain: q.domain, detail: resultDetail(q.action, q.domain, q.requestId) };
        app.journal.set(q.requestId, j);
        applied.set(q.requestId, (applied.get(q.requestId) ?? 0) + 1);
      }
      const result: backchannel.v1.ICommandResult = { requestId: q.requestId, outcome: Outcome.OUTCOME_APPLIED, domainName: j.domain, detail: j.detail, completedAtMs: now };
      enqueue({ commandResult: result });
    },
  };

  // --- the parties ---
  const keys = new EnvelopeKeys(SEED, 'hv-sim');
  const stores: { manager: PartyStore<ManagerApp>; host: PartyStore<HostApp> } = { manager: emptyStore<ManagerApp>({ commands: new Map() }), host: emptyStore<HostApp>({ journal: new Map() }) };
  const start = <A>(role: 'manager' | 'host', store: PartyStore<A>, app: AppHandler<A>): Party<A> =>
    new Party<A>({
      role,
      loop,
      clock: clocks[role],
      keys,
      store,
      core: o.core({ role, iana: IANA, random: rnd }),
      transport: transport(role === 'manager' ? 'lan' : 'system'),
      app,
      observer,
      tuning: o.tuning,
      randomBytes,
      ...(o.trace ? { trace: o.trace } : {}),
    });
  let manager: Party<ManagerApp> | undefined = start('manager', stores.manager, managerApp);
  let host: Party<HostApp> | undefined = start('host', stores.host, hostApp);
  const crashCount = { manager: 0, host: 0, bmc: 0 };

  const deferred: number[] = [];
  const issue = (i: number) => {
    if (!manager) return void deferred.push(i);
    const requestId = `req-${seed}-${i}`;
    const action = 1 + (i % 9);
    const domain = DOMAINS[i % DOMAINS.length]!;
    expected.set(requestId, { action, domain });
    manager.commit((s) => void s.app.commands.set(requestId, { action, domain, final: false }));
    const body: Body = { commandRequest: { requestId, principal: 'alice', action, domain, hostId: 'hv-sim', issuedAtMs: manager.now() } };
    manager.enqueue(body);
    manager.expectReply(500);
    o.trace?.(`${loop.now} manager issues ${requestId} as message ${stores.manager.nextId - 1}`);
  };
  issueAt.forEach((at, i) => loop.at(at, () => issue(i)));

  for (const c of crashes.manager) {
    let backup: PartyStore<ManagerApp> | undefined;
    if (o.restoreManager) loop.at(Math.max(0, c.at - Math.floor(rnd() * 120_000)), () => void (backup = cloneManagerStore(stores.manager)));
    loop.at(c.at, () => {
      if (!manager) return;
      manager.crash();
      manager = undefined;
      if (attacked) restartAfterAttack = true;
      crashCount.manager++;
      loop.after(c.downMs, () => {
        if (backup) {
          // The store comes back from the backup: what was issued since is forgotten, the rest is as it was then.
          stores.manager = cloneManagerStore(backup);
          for (const id of expected.keys()) if (!stores.manager.app.commands.has(id)) forgotten.add(id);
          finals = [...stores.manager.app.commands.values()].filter((x) => x.final).length;
          observer.count('manager.restores');
        }
        manager = start('manager', stores.manager, managerApp);
        for (const i of deferred.splice(0)) issue(i);
      });
    });
  }
  for (const c of crashes.host)
    loop.at(c.at, () => {
      if (!host) return;
      host.crash();
      host = undefined;
      crashCount.host++;
      loop.after(c.downMs, () => (host = start('host', stores.host, hostApp)));
    });
  for (const c of crashes.bmc)
    loop.at(c.at, () => {
      if (!bmc.engine) return;
      bmc.crash();
      crashCount.bmc++;
      if (attacked) restartAfterAttack = true;
      loop.after(c.downMs, () => bmc.start());
    });
  // Someone with the BMC operator password puts 1–3 junk records on queue 1 after the last one.
  let attackRecords = 1 + Math.floor(rnd() * 3);
  // A manager that restarts after the attack (or a BMC that forgets it, or an epoch the manager has not
  // synchronised yet) has nothing to compare last_put_seq with.
  let attacked = false;
  let restartAfterAttack = false;
  if (attackAt !== undefined)
    loop.at(attackAt, () => {
      if (!bmc.engine) return;
      attacked = true;
      // A manager process that has not synchronised yet takes whatever it finds as its starting point.
      if (!manager?.synced) restartAfterAttack = true;
      const info = decodeQueueInfoResponse(bmc.engine.handle(OemCommand.GetQueueInfo, 'lan', OPERATOR, encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue: QueueId.ToHost })).data);
      // Records put under an epoch the manager has not seen yet are all it will ever know of that epoch.
      if (stores.manager.cursor.putEpoch !== info.bmcEpoch) restartAfterAttack = true;
      let stored = 0;
      // The replay: the newest captured record that is a whole message (first and last fragment).
      const copy = [...captured].reverse().find((r) => r[0] === 0x11 && r[5] === 0 && r[6] === 0);
      if (o.attack === 'replay') attackRecords = copy ? 1 : 0;
      for (let i = 1; i <= attackRecords; i++) {
        let record: Uint8Array;
        if (o.attack === 'replay') record = copy!;
        else {
          record = randomBytes(40);
          // A first-and-last fragment header, so the junk reaches the envelope check (a malformed_record alert).
          record.set([0x11, 0xff, 0xff, 0xff, 0x7f, 0, 0]);
        }
        const r = bmc.engine.handle(OemCommand.PutRecord, 'lan', OPERATOR, encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToHost, seq: info.lastPutSeq + i, record }));
        if (r.cc === 0) stored++;
      }
      // Only what the BMC stored is an attack (a full queue refuses it).
      attackRecords = stored;
      observer.count('attack.foreign_put');
      observer.count('attack.foreign_records', stored);
      o.trace?.(`${loop.now} ATTACK: put ${stored} record(s) at seq ${info.lastPutSeq + 1}..${info.lastPutSeq + stored} on queue 1`);
    });

  const horizon = activeMs + 3 * 3_600_000;
  loop.run(horizon, () => finals === o.commands - forgotten.size);
  // Then a quiet while: late alerts, and the periodic queue sync that notices foreign records, still count.
  if (finals === o.commands - forgotten.size) loop.run(Math.max(loop.now, attackAt ?? 0, ...partitions.map(([, end]) => end)) + o.settleMs, () => false);

  // --- invariants ---
  const cmds = stores.manager.app.commands;
  const notFinal = [...expected.keys()].filter((id) => !forgotten.has(id) && !cmds.get(id)?.final);
  if (expected.size !== o.commands) violations.push(`${o.commands - expected.size} command(s) never issued`);
  if (notFinal.length > 0) violations.push(`${notFinal.length} command(s) not final after ${loop.now} ms (first ${notFinal.slice(0, 3).join(', ')}); manager ${manager?.connected ? 'connected' : 'not connected'}, host ${host?.connected ? 'connected' : 'not connected'}, outbox ${stores.manager.outbox.size}/${stores.host.outbox.size}`);
  for (const [id, n] of applied) if (n !== 1) violations.push(`${id} applied ${n} times`);
  for (const [id, c] of expected) {
    if (forgotten.has(id) || !cmds.get(id)?.final) continue;
    if ((applied.get(id) ?? 0) === 0) violations.push(`${id} final at the manager but never applied`);
    const j = stores.host.app.journal.get(id);
    if (!j || j.action !== c.action || j.domain !== c.domain) violations.push(`${id} journaled as ${j?.action}/${j?.domain}, issued as ${c.action}/${c.domain}`);
  }
  for (const id of applied.keys()) if (!expected.has(id)) violations.push(`${id} applied but never issued`);
  const explained = new Set(EXPLAINED[o.attack]);
  for (const [kind, n] of Object.entries(alerts)) if (!explained.has(kind)) violations.push(`${n} ${kind} alert(s) without an attack that explains them: ${alertLines.join(' | ')}`);
  // One foreign record at exactly the seq the manager puts next cannot be told from a retransmission
  // (the BMC answers cc 00 with last_put_seq = our seq): only two or more are detectable (docs/simulation.md).
  if (counters['attack.foreign_put'] && attackRecords >= 2 && !restartAfterAttack && !alerts.foreign_producer) violations.push(`a foreign Put of ${attackRecords} records on queue 1 was not detected`);

  const lanStats = { lan_lost: wires.lanUp.lost + wires.lanDown.lost, lan_duplicated: wires.lanUp.duplicated + wires.lanDown.duplicated };
  return {
    seed,
    commands: o.commands,
    final: finals,
    forgotten: forgotten.size,
    applied: applied.size,
    simulatedMs: loop.now,
    events: loop.events,
    skewMs,
    driftPpm: drift,
    bmcDurable,
    lanLoss: lan.loss,
    crashes: crashCount,
    counters: { ...counters, ...lanStats, bmc_restarts: bmc.restarts },
    alerts,
    violations,
    schedule: { crashes, partitions, ...(attackAt !== undefined ? { attackAt } : {}) },
  };
}
