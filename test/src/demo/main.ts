#!/usr/bin/env node
/**
 * `npm run demo [-- --keep]`: starts bmc-oem, hypervisor-agent (libvirt test
 * driver, three domains) and vms-agent (SQLite) on 127.0.0.1, enrolls the
 * host, and walks VM commands through the out-of-band path, printing each
 * step in plain words. Exits 0 on success, non-zero with a message on any
 * failure. With --keep everything stays up (API URL and a token printed)
 * until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { stopAllManaged } from '../harness/managed-process.js';
import { pollUntil } from '../harness/poll-until.js';
import { VmsAgentStack } from '../vms-agent-e2e/stack.js';

interface DomainView {
  name: string;
  state: string;
  vcpus: number;
  memoryKib: number;
}

interface CommandView {
  id: string;
  state: string;
  principal: string;
  action: string;
  domain: string;
  challenge: { nonce: string; approvalsRequired: number } | null;
  result: { outcome: string; previousState: string; newState: string; errorCode: string; errorMessage: string } | null;
  events: Array<{ atMs: number; state: string }>;
}

interface AlertView {
  id: number;
  kind: string;
  principal: string;
  action: string;
  domain: string;
  reason: string;
  signatureStatus: string;
}

interface HostView {
  id: string;
  link: { state: string; unacked: number; lastReceiveAtMs: number | null };
  status: { ageMs: number; reportSeq: number } | null;
}

const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
const HELP = `usage: npm run demo [-- --keep]
  Starts bmc-oem, hypervisor-agent and vms-agent on 127.0.0.1 and walks VM commands
  through the BMC. --keep leaves them running (prints the API URL and a token) until Ctrl-C.`;

let stepNumber = 0;
const step = (text: string) => console.log(`\n${++stepNumber}. ${text}`);
const say = (text: string) => console.log(`   ${text}`);

async function main(keep: boolean): Promise<void> {
  console.log('Backchannel demo: a VM manager operating VMs through the server\'s BMC, with the management network out of the picture.');
  console.log('Everything runs on 127.0.0.1: vms-agent ──RMCP+──▶ bmc-oem ◀──VM serial protocol── hypervisor-agent ──▶ libvirt (test driver).');

  const stack = new VmsAgentStack({ narrate: say });
  step('Start the three parts and enroll the host');
  await stack.start();

  step('List the domains, from the status report hv-01 sent back through BMC queue 2');
  const domains = await waitForDomains(stack);
  for (const d of domains) say(`${d.name.padEnd(8)} ${d.state.padEnd(9)} ${d.vcpus} vCPU  ${Math.round(d.memoryKib / 1024)} MiB`);

  step('Shut web-1 down and start it again through the out-of-band path (alice; vms-agent signs with her custodial key)');
  for (const action of ['shutdown', 'start']) {
    const c = await run(stack, 'alice', 'web-1', action);
    expectOutcome(c, 'applied');
    say(`${action} web-1: ${c.result?.previousState} → ${c.result?.newState} in ${elapsed(c)} ms; trail ${trail(c)}`);
  }

  step('Operator-held approval: bob starts web-2; the command waits until bob signs the challenge on his own machine');
  const issued = await issue(stack, 'bob', 'web-2', 'start');
  const waiting = await stack.waitCommand<CommandView>(issued.id, (c) => c.state === 'awaiting_approval' || FINAL.has(c.state));
  if (waiting.state !== 'awaiting_approval') throw new Error(`bob's command is ${waiting.state}, expected awaiting_approval`);
  say(`command ${waiting.id} is awaiting approval; challenge nonce ${waiting.challenge?.nonce.slice(0, 16)}…`);
  const approve = await stack.cli(['approve', waiting.id, '--key', stack.bobKeyFile], 'bob');
  if (approve.code !== 0) throw new Error(`vms-agent approve failed (${approve.code}): ${approve.stderr}`);
  say('`vms-agent approve ID --key bob.key` signed the challenge locally and posted the signature');
  const approved = await stack.waitCommand<CommandView>(waiting.id, (c) => FINAL.has(c.state));
  expectOutcome(approved, 'applied');
  say(`start web-2: ${approved.result?.previousState} → ${approved.result?.newState}; trail ${trail(approved)}`);

  step('mallory, whom the host policy does not know, tries to destroy db-1');
  const denied = await run(stack, 'mallory', 'db-1', 'destroy');
  expectOutcome(denied, 'denied');
  say(`result: ${denied.state} (${denied.result?.errorCode}: ${denied.result?.errorMessage})`);
  const alerts = await waitForAlert(stack, 'mallory');
  for (const a of alerts) say(`security alert: ${a.kind}, ${a.principal} → ${a.action} ${a.domain}: "${a.reason}" (host signature ${a.signatureStatus})`);

  step('The security team acknowledges the alert, with a comment (mallory could not: acknowledging needs the security role, and nobody acknowledges an alert about themselves)');
  const refused = await stack.api<{ code: string; message: string }>('POST', `/v1/alerts/${alerts[0]!.id}/ack`, 'mallory', { comment: 'nothing to see' });
  if (refused.status !== 403) throw new Error(`mallory's acknowledgement answered ${refused.status}, expected 403`);
  say(`mallory: ${refused.status} ${refused.json.code}`);
  const ack = await stack.cli(['alerts', 'ack', String(alerts[0]!.id), '--comment', 'mallory is not in hv-01 policy: expected, ticket SEC-1'], 'sec');
  if (ack.code !== 0) throw new Error(`vms-agent alerts ack failed (${ack.code}): ${ack.stderr}`);
  say(`sec: ${ack.stdout.trim()}`);

  step('Queue and link figures');
  const { json: hosts } = await stack.api<{ hosts: HostView[] }>('GET', '/v1/hosts', 'alice');
  for (const h of hosts.hosts) {
    say(`link ${h.id}: ${h.link.state}, ${h.link.unacked} message(s) awaiting acknowledgement, last status report #${h.status?.reportSeq} ${h.status?.ageMs} ms old`);
  }
  const queues = await stack.cli(['bmc', 'queue-info', 'hv-01', '--db', `${stack.dir}/vms.db`, '--master-key-file', `${stack.dir}/master.key`]);
  if (queues.code !== 0) throw new Error(`vms-agent bmc queue-info failed: ${queues.stderr}`);
  for (const line of queues.stdout.trim().split('\n')) say(line);
  const after = await domainsNow(stack);
  say(`domains now: ${after.map((d) => `${d.name} ${d.state}`).join(', ')}`);

  if (keep) {
    console.log(`\nEverything is still running. API: ${stack.url}`);
    console.log(`  token (alice): ${stack.tokens.alice}`);
    console.log(`  try: curl -H 'authorization: Bearer ${stack.tokens.alice}' ${stack.url}/v1/hosts/hv-01/domains`);
    console.log(`  or:  node vms-agent/dist/main.js vm list hv-01 --url ${stack.url} --token ${stack.tokens.alice}`);
    console.log('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  await stack.stop();
  console.log('\nDemo finished: every step went through the BMC and came back. All processes stopped.');
}

async function issue(stack: VmsAgentStack, who: string, domain: string, action: string): Promise<CommandView> {
  const { status, json } = await stack.api<CommandView & { message?: string }>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, who, { action });
  if (status !== 202) throw new Error(`POST ${action} ${domain} as ${who}: HTTP ${status} ${json.message ?? ''}`);
  return json;
}

async function run(stack: VmsAgentStack, who: string, domain: string, action: string): Promise<CommandView> {
  const { id } = await issue(stack, who, domain, action);
  return stack.waitCommand<CommandView>(id, (c) => FINAL.has(c.state), 30_000);
}

function expectOutcome(c: CommandView, state: string): void {
  if (c.state !== state) {
    throw new Error(`${c.action} ${c.domain} by ${c.principal} ended ${c.state}, expected ${state}: ${c.result?.errorCode ?? ''} ${c.result?.errorMessage ?? ''}`);
  }
}

function elapsed(c: CommandView): number {
  return (c.events.at(-1)?.atMs ?? 0) - (c.events[0]?.atMs ?? 0);
}

function trail(c: CommandView): string {
  return c.events.map((e) => e.state).filter((s, i, all) => s !== all[i - 1]).join(' → ');
}

async function domainsNow(stack: VmsAgentStack): Promise<DomainView[]> {
  const { status, json } = await stack.api<{ domains: DomainView[] }>('GET', '/v1/hosts/hv-01/domains', 'alice');
  return status === 200 ? json.domains : [];
}

function waitForDomains(stack: VmsAgentStack): Promise<DomainView[]> {
  return pollUntil('a status report from hv-01', 30_000, async () => {
    const domains = await domainsNow(stack);
    return domains.length > 0 ? domains : undefined;
  });
}

function waitForAlert(stack: VmsAgentStack, principal: string): Promise<AlertView[]> {
  return pollUntil(`an alert about ${principal} at /v1/alerts`, 20_000, async () => {
    const { json } = await stack.api<{ alerts: AlertView[] }>('GET', `/v1/alerts?host=hv-01&principal=${principal}`, 'alice');
    return json.alerts.length > 0 ? json.alerts : undefined;
  });
}

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
if (values.help) {
  console.log(HELP);
} else {
  main(values.keep ?? false).catch(async (err: unknown) => {
    console.error(`\ndemo failed: ${(err as Error).message}`);
    await stopAllManaged();
    process.exitCode = 1;
  });
}
