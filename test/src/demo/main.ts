#!/usr/bin/env node
/**
 * `npm run demo`. This version walks a VM command through the part of the
 * out-of-band path that is built and wired today: the wire layer shared by
 * the manager and the hypervisor (proto). It says so in its output; it grows
 * into the full BMC + hypervisor-agent + vms-agent walk-through as those
 * pieces land (docs/demo.md).
 */
import { randomBytes } from 'node:crypto';
import {
  Action,
  actionName,
  Direction,
  EnvelopeKeys,
  generateSigningKeyPair,
  InboundChannel,
  keyId,
  requestDigest,
  sealRecords,
  signChallenge,
  signRequest,
  verifyChallengeSignature,
  verifyRequest,
} from '@backchannel/proto';

const rng = (n: number) => new Uint8Array(randomBytes(n));
const step = (text: string) => console.log(`\n▶ ${text}`);
const detail = (text: string) => console.log(`  ${text}`);

function main(): number {
  console.log('Backchannel demo: the wire layer (proto) between manager and hypervisor.');
  console.log('Not yet in this demo: bmc-oem, hypervisor-agent and vms-agent processes; see docs/demo.md.');

  step('Enroll host "hv-01": a random 32-byte seed shared by manager and hypervisor, Ed25519 keys for an operator');
  const seed = rng(32);
  const managerKeys = new EnvelopeKeys(seed, 'hv-01');
  const hostKeys = new EnvelopeKeys(seed, 'hv-01');
  const alice = generateSigningKeyPair(rng);
  detail(`operator alice, key id ${keyId(alice.publicKey)}`);

  step('The manager builds a signed request: shutdown domain "web-1"');
  const request = {
    requestId: crypto.randomUUID(),
    hostId: 'hv-01',
    principal: 'alice',
    action: Action.ACTION_SHUTDOWN,
    domain: 'web-1',
    issuedAtMs: Date.now(),
  };
  const signed = { ...request, principalSignature: signRequest(request, alice) };
  detail(`request ${signed.requestId}, action ${actionName(signed.action)}`);

  step('Sealed with this 30 s step\'s key (TOTP + HKDF, AES-256-GCM) and cut into BMC queue records of ≤ 200 bytes');
  const records = sealRecords(
    { keys: managerKeys, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: 200, randomBytes: rng },
    1,
    { commandRequest: signed },
    Date.now(),
  );
  detail(`${records.length} record(s): ${records.map((r) => r.length).join(' + ')} bytes; the BMC sees only ciphertext`);
  const leaked = records.some((r) => Buffer.from(r).includes(Buffer.from('web-1')));
  detail(`domain name visible in the records: ${leaked ? 'YES (bug)' : 'no'}`);

  step('The hypervisor reassembles, opens and de-duplicates');
  const inbound = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
  let delivered;
  for (const record of records) delivered = inbound.pushRecord(record, Date.now()) ?? delivered;
  if (delivered?.kind !== 'delivered' || !delivered.body.commandRequest) throw new Error(`not delivered: ${JSON.stringify(delivered)}`);
  const received = delivered.body.commandRequest;
  detail(`delivered message ${delivered.messageId}: ${actionName(received.action ?? Action.ACTION_UNSPECIFIED)} ${received.domain} by ${received.principal}`);
  detail(`principal signature valid: ${verifyRequest(received, alice.publicKey)}`);
  const again = records.map((r) => inbound.pushRecord(r, Date.now())).at(-1);
  detail(`the same records again: ${again?.kind} (not applied twice)`);

  step('Request-challenge-verify: the hypervisor challenges, the operator signs, the hypervisor verifies');
  const challenge = {
    requestId: received.requestId,
    hostId: 'hv-01',
    nonce: rng(32),
    expiresAtMs: Date.now() + 60_000,
    requestDigest: requestDigest(received),
  };
  const answer = signChallenge(challenge, alice);
  detail(`challenge signature valid: ${verifyChallengeSignature(challenge, answer, alice.publicKey)}`);
  const mallory = generateSigningKeyPair(rng);
  detail(`a signature by an unknown key is valid: ${verifyChallengeSignature(challenge, signChallenge(challenge, mallory), alice.publicKey)}`);

  step('Tampering: one flipped bit in a record');
  const tampered = records.map((r) => Uint8Array.from(r));
  const last = tampered.at(-1) as Uint8Array;
  last[last.length - 1] = (last[last.length - 1] ?? 0) ^ 1;
  const fresh = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
  const verdict = tampered.map((r) => fresh.pushRecord(r, Date.now())).at(-1);
  detail(`result: ${verdict?.kind} ${verdict?.kind === 'rejected' ? verdict.code : ''}`);

  console.log('\nDemo finished: the wire layer works end to end in one process.');
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
