/**
 * The seeded list of commands a fault run issues: command i is the same for
 * a given seed whatever the timing. Mostly the custodial principal alice
 * (allowed everything on the fault fixture's domains) with actions that fit
 * the state the script expects the domain to be in, some actions that do
 * not (they end `failed`, a final state), read-only actions, and a few by
 * mallory, whom the host's policy does not know (they end `denied`, each
 * with one alert).
 */
import { fileURLToPath } from 'node:url';
import { seededRandom } from './seeded-random.js';

export const FAULT_FIXTURE = fileURLToPath(new URL('../../fixtures/faults-node.xml', import.meta.url));

export type DomainStateName = 'running' | 'paused' | 'shutoff';

/** The domains of `test/fixtures/faults-node.xml` and the state each starts in (every hypervisor-agent start reloads them). */
export const FIXTURE_DOMAINS: Readonly<Record<string, DomainStateName>> = Object.freeze({
  'vm-a': 'running',
  'vm-b': 'shutoff',
  'vm-c': 'paused',
  'vm-d': 'running',
  'vm-e': 'shutoff',
  'vm-f': 'running',
});

export const STATE_CHANGING = ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume'] as const;
export type StateChangingAction = (typeof STATE_CHANGING)[number];
export type ScriptAction = StateChangingAction | 'domain_info' | 'list_domains';

/** The state an applied action leaves the domain in (libvirt's semantics; reboot and reset end running). */
/**
 * The state an applied action leaves a domain in. reset is libvirt's
 * virDomainReset (a reset in place, as the hypervisor-agent does it): it
 * resets the guest without changing whether it runs, so a paused domain stays
 * paused; every other action leaves the one state in AFTER.
 */
export function stateAfter(action: StateChangingAction, previous: DomainStateName): DomainStateName {
  return action === 'reset' && previous === 'paused' ? 'paused' : AFTER[action];
}

export const AFTER: Readonly<Record<StateChangingAction, DomainStateName>> = Object.freeze({
  start: 'running',
  shutdown: 'shutoff',
  destroy: 'shutoff',
  reboot: 'running',
  reset: 'running',
  suspend: 'paused',
  resume: 'running',
});

/** Actions libvirt's test driver accepts in each state. */
const VALID_IN: Readonly<Record<DomainStateName, readonly StateChangingAction[]>> = {
  running: ['shutdown', 'destroy', 'suspend', 'reboot', 'reset'],
  paused: ['resume', 'destroy', 'shutdown', 'reset'],
  shutoff: ['start'],
};

export interface ScriptedCommand {
  index: number;
  principal: 'alice' | 'mallory';
  domain: string;
  action: ScriptAction;
}

export class CommandScript {
  readonly #random: () => number;
  readonly #expected = new Map<string, DomainStateName>(Object.entries(FIXTURE_DOMAINS));
  readonly #domains = Object.keys(FIXTURE_DOMAINS);
  #next = 0;

  constructor(seed: number) {
    this.#random = seededRandom(seed ^ 0x5c417);
  }

  /** The next command; the script's expectation follows it as if it were applied. */
  next(): ScriptedCommand {
    const r = this.#random;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const index = this.#next++;
    const domain = pick(this.#domains);
    const roll = r();
    if (roll < 0.04) return { index, principal: 'mallory', domain, action: pick(STATE_CHANGING) };
    if (roll < 0.08) return { index, principal: 'alice', domain, action: 'list_domains' };
    if (roll < 0.14) return { index, principal: 'alice', domain, action: 'domain_info' };
    const expected = this.#expected.get(domain)!;
    // Mostly what fits the expected state; sometimes anything (then it may fail in the wrong state).
    const action = roll < 0.86 ? pick(VALID_IN[expected]) : pick(STATE_CHANGING);
    if (VALID_IN[expected].includes(action)) this.#expected.set(domain, stateAfter(action, expected));
    return { index, principal: 'alice', domain, action };
  }
}
