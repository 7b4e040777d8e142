/**
 * The agent seam: the processor hands actions to its runner and returns; actions
 * on one domain run in order, on different domains concurrently; a slow one is
 * reported in progress; stopping abandons what still runs (reported interrupted
 * at the next start, never re-applied). libvirt's test driver does the work; a
 * test-held gate in front of it stands for a guest that takes its time.
 */
import { join, resolve } from 'node:path';
import { type Action, Action as A, type Body, type Challenge, type CommandRequest, type CommandResult, DomainState, Outcome, signChallenge } from '@backchannel/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertFacts } from '../src/alerts/alert-factory.js';
import { type ActionExecutor, CommandProcessor } from '../src/agent/command-processor.js';
import type { ActionParams } from '../src/libvirt/action-params.js';
import { type DomainTarget, LibvirtAdapter } from '../src/libvirt/libvirt-adapter.js';
import { compilePolicy } from '../src/policy/policy.js';
import { AgentStore } from '../src/store/agent-store.js';
import { FakeTimers, gate, until } from './helpers/fake-timers.js';
import { makePolicyJson, makePrincipals, rnd } from './helpers/keys.js';
import { tempDir } from './helpers/temp-dir.js';

const FIXTURE_URI = `test://${resolve(import.meta.dirname, 'fixtures/node.xml')}`;
const keys = makePrincipals();
const policy = compilePolicy(makePolicyJson(keys));

/** The real adapter, with a gate per domain name the test can close to hold an action in flight. */
class GatedLibvirt implements ActionExecutor {
  readonly gates = new Map<string, Promise<void>>();
  readonly started: string[] = [];
  constructor(readonly inner: LibvirtAdapter) {}
  hold(domain: string): () => void {
    const g = gate();
    this.gates.set(domain, g.promise);
    return () => {
      this.gates.delete(domain);
      g.open();
    };
  }
  resolve(name: string) {
    return this.inner.resolve(name);
  }
  async execute(action: Action, target: DomainTarget | undefined, params: ActionParams, signal: AbortSignal) {
    this.started.push(`${target?.name ?? 'host'}:${action}`);
    const held = target && this.gates.get(target.name);
    if (held) await Promise.race([held, new Promise<void>((r) => signal.addEventListener('abort', () => r()))]);
    return this.inner.execute(action, target, params, signal);
  }
}

let seq = 0;
const request = (principal: string, action: Action, domain: string, parameters: Record<string, string> = {}): CommandRequest => ({
  requestId: `seam-${++seq}`,
  principal,
  action,
  domain,
  parameters,
  hostId: 'hv-1',
  issuedAtMs: 1_700_000_000_000,
});

class Rig {
  sent: Body[] = [];
  alerts: AlertFacts[] = [];
  /** Results handed to onApplied, in order. */
  applied: CommandResult[] = [];
  wakes = 0;
  readonly timers = new FakeTimers();
  readonly processor: CommandProcessor;
  constructor(
    readonly store: AgentStore,
    readonly libvirt: GatedLibvirt,
  ) {
    this.processor = new CommandProcessor({
      hostId: 'hv-1',
      store,
      policy: () => policy,
      executor: libvirt,
      now: () => 1_700_000_000_000 + this.timers.now,
      randomBytes: rnd,
      send: (body) => this.sent.push(body),
      alert: (facts) => this.alerts.push(facts),
      wake: () => (this.wakes += 1),
      onApplied: (_req, result) => this.applied.push(result),
      timers: this.timers,
      progressAfterMs: 1000,
    });
  }
  /** Issues, answers the challenge (as alice), and lets the look-up and hand-over happen. */
  async approve(req: CommandRequest, signer = keys.alice): Promise<void> {
    await this.processor.handleRequest(req);
    const find = () => this.sent.map((b) => b.challenge).find((c): c is Challenge => c?.requestId === req.requestId);
    await until(() => find() !== undefined || this.resultOf(req) !== undefined, `the challenge for ${req.requestId}`);
    const challenge = find();
    if (!challenge) throw new Error(`no challenge for ${req.requestId}: ${JSON.stringify(this.resultOf(req))}`);
    await this.processor.handleChallengeResponse({ nonce: challenge.nonce, signatures: [signChallenge(challenge, signer)] });
    await until(() => this.store.getRequest(req.requestId!)?.state !== 'challenged', `${req.requestId} to be handed over`);
  }
  /** Stops the processor, letting the fake clock run out its grace. */
  async stop(): Promise<number> {
    const stopping = this.processor.stop(0);
    await this.timers.advance(0);
    return stopping;
  }
  resultOf(req: CommandRequest) {
    return this.sent.map((b) => b.commandResult).find((r) => r?.requestId === req.requestId);
  }
}

describe('CommandProcessor beside the link (libvirt test driver, fake clock)', () => {
  let rig: Rig;
  beforeEach(async () => {
    const lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000, shutdownPollMs: 5 });
    await lv.connect();
    rig = new Rig(new AgentStore(':memory:'), new GatedLibvirt(lv));
  });
  afterEach(async () => {
    await rig.stop();
    await rig.libvirt.inner.close();
    rig.store.close();
  });

  it('returns before libvirt is done; another domain is applied meanwhile; the same domain waits its turn', async () => {
    const release = rig.libvirt.hold('web-1');
    const slow = request('alice', A.ACTION_SUSPEND, 'web-1');
    await rig.approve(slow);
    // handleChallengeResponse returned while web-1's action is still held.
    expect(rig.store.getRequest(slow.requestId!)?.state).toBe('applying');
    expect(rig.resultOf(slow)).toBeUndefined();

    const other = request('alice', A.ACTION_START, 'web-2');
    await rig.approve(other);
    await until(() => rig.resultOf(other) !== undefined, 'the result for web-2');
    expect(rig.resultOf(other)).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_RUNNING, domainName: 'web-2', domainUuid: '6695eb01-f6a4-8304-79aa-97f2502e1932' });

    const after = request('alice', A.ACTION_RESUME, 'web-1');
    await rig.approve(after);
    expect(rig.libvirt.started).toEqual([`web-1:${A.ACTION_SUSPEND}`, `web-2:${A.ACTION_START}`]); // resume waits behind suspend
    release();
    await rig.processor.idle();
    expect(rig.libvirt.started.at(-1)).toBe(`web-1:${A.ACTION_RESUME}`);
    expect(rig.resultOf(slow)).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_PAUSED });
    // The domain as libvirt shows it right after the action (the manager updates its status copy from it).
    expect(rig.resultOf(other)).toMatchObject({ domainAfterSet: true, domainIdAfter: (await rig.libvirt.inner.domainInfo('web-2')).id });
    expect(rig.applied.map((r) => r.requestId)).toEqual([other.requestId, slow.requestId, after.requestId]);
    expect(rig.resultOf(after)).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_PAUSED, newState: DomainState.DOMAIN_STATE_RUNNING });
    expect(rig.wakes).toBeGreaterThanOrEqual(3);
    expect(rig.alerts).toEqual([]);
  });

  it('reports an action still running after a second as in progress, once', async () => {
    const release = rig.libvirt.hold('web-1');
    const req = request('alice', A.ACTION_SHUTDOWN, 'web-1', { timeout_s: '30' });
    await rig.approve(req);
    await rig.timers.advance(999);
    expect(rig.sent.filter((b) => b.commandProgress)).toEqual([]);
    await rig.timers.advance(1);
    const progress = rig.sent.filter((b) => b.commandProgress).map((b) => b.commandProgress);
    expect(progress).toEqual([expect.objectContaining({ requestId: req.requestId, stage: 'applying', elapsedMs: 1000 })]);
    expect(progress[0]?.detail).toMatch(/shutdown of web-1 still running/);
    release();
    await rig.processor.idle();
    expect(rig.resultOf(req)).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_SHUTOFF });
    expect(rig.sent.filter((b) => b.commandProgress)).toHaveLength(1);
  });

  it('refuses bad parameters with a clear error and applies nothing', async () => {
    await rig.processor.handleRequest(request('alice', A.ACTION_SHUTDOWN, 'web-1', { timeout: '30' }));
    await rig.processor.handleRequest(request('alice', A.ACTION_SHUTDOWN, 'web-1', { timeout_s: 'soon' }));
    await rig.processor.handleRequest(request('alice', A.ACTION_SHUTDOWN, 'web-1', { timeout_s: '10', force_after_s: '20' }));
    await rig.processor.idle();
    const results = rig.sent.map((b) => b.commandResult).filter(Boolean);
    expect(results.map((r) => [r?.outcome, r?.errorCode])).toEqual(Array(3).fill([Outcome.OUTCOME_FAILED, 'ERR_BAD_PARAMETER']));
    expect(results.map((r) => r?.errorMessage)).toEqual([
      'shutdown accepts only timeout_s, force_after_s; got "timeout"',
      'parameter timeout_s must be a whole number of seconds, got "soon"',
      'parameter force_after_s (20) must not exceed timeout_s (10)',
    ]);
    expect(rig.libvirt.started).toEqual([]);
    expect(rig.alerts).toEqual([]);
  });

  it('answers a request for a domain libvirt does not know at once, without a challenge', async () => {
    const req = request('alice', A.ACTION_START, 'web-9');
    await rig.processor.handleRequest(req);
    await rig.processor.idle();
    expect(rig.sent.some((b) => b.challenge)).toBe(false);
    expect(rig.resultOf(req)).toMatchObject({ outcome: Outcome.OUTCOME_FAILED, errorCode: 'VIR_ERR_NO_DOMAIN' });
  });
});

describe('stopping with an action in flight', () => {
  it('abandons it (stays applying), reports it ERR_INTERRUPTED at the next start, and never applies it again', async () => {
    const path = join(tempDir('agent-seam-'), 'state.db');
    const lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000, shutdownPollMs: 5 });
    await lv.connect();
    const gated = new GatedLibvirt(lv);
    const first = new Rig(new AgentStore(path), gated);
    gated.hold('web-1');
    const req = request('alice', A.ACTION_SUSPEND, 'web-1');
    await first.approve(req);
    const stopping = first.processor.stop(3000);
    await first.timers.advance(3000);
    expect(await stopping).toBe(1);
    expect(first.resultOf(req)).toBeUndefined();
    first.store.close();

    const second = new Rig(new AgentStore(path), new GatedLibvirt(lv));
    expect(await second.processor.recoverInterrupted(async (d) => (await lv.domainInfo(d)).state ?? DomainState.DOMAIN_STATE_NOSTATE)).toBe(1);
    expect(second.resultOf(req)).toMatchObject({ outcome: Outcome.OUTCOME_FAILED, errorCode: 'ERR_INTERRUPTED', domainName: 'web-1' });
    await second.processor.handleRequest(req);
    await second.processor.idle();
    expect(second.libvirt.started).toEqual([]);
    await second.stop();
    second.store.close();
    await lv.close();
  });

  it('looks up again, after a restart, a request whose domain was being looked up', async () => {
    const path = join(tempDir('agent-seam-'), 'state.db');
    const lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000 });
    await lv.connect();
    const store = new AgentStore(path);
    const first = new Rig(store, new GatedLibvirt(lv));
    const req = request('alice', A.ACTION_START, 'web-2');
    // The crash point: accepted and journaled `resolving`, the look-up never finished.
    await first.stop();
    await first.processor.handleRequest(req);
    expect(store.getRequest(req.requestId!)?.state).toBe('resolving');
    store.close();

    const second = new Rig(new AgentStore(path), new GatedLibvirt(lv));
    expect(await second.processor.recoverInterrupted(async () => DomainState.DOMAIN_STATE_NOSTATE)).toBe(0);
    await second.processor.idle();
    expect(second.sent.map((b) => b.challenge?.requestId)).toEqual([req.requestId]);
    await second.stop();
    second.store.close();
    await lv.close();
  });
});
