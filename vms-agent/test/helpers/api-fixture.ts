import { encodePublicKey, encodeSecretKey, generateSigningKeyPair, type SigningKeyPair } from '@backchannel/proto';
import { buildApp } from '../../src/api/app.js';
import { hashToken, newToken } from '../../src/api/auth.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import type { FastifyBaseLogger } from 'fastify';
import type { LinkHealth } from '../../src/api/views.js';
import { CommandService } from '../../src/commands/command-service.js';
import type { Role } from '../../src/roles.js';
import { hostInput, rng, tempStore } from './temp-store.js';

/**
 * A real app on a real SQLite file, with alice (custodial key) and bob
 * (operator-held key), both with the default roles, and principals of one
 * role each: sec (security), vic (viewer), oscar (operator, custodial),
 * mallory (operator and security, custodial).
 */
export async function apiFixture(linkHealth?: (hostId: string) => LinkHealth | undefined, options: { logger?: FastifyBaseLogger } = {}) {
  const t = tempStore();
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const service = generateSigningKeyPair(rng);
  const commands = new CommandService({ store: t.store, clock: clock.now, randomBytes: rng, serviceKey: service });
  const metrics = new ServiceMetrics();
  const app = await buildApp({ store: t.store, commands, metrics, clock: clock.now, ...(linkHealth ? { linkHealth } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  const alice = generateSigningKeyPair(rng);
  const bob = generateSigningKeyPair(rng);
  await t.store.addHost(hostInput('hv-01', { hostPublicKey: 'ed25519:' + Buffer.alloc(32).toString('base64') }), now);
  await t.store.addPrincipal({ name: 'alice', publicKey: encodePublicKey(alice.publicKey), secretKey: alice.secretKey.subarray(0, 32) }, now);
  await t.store.addPrincipal({ name: 'bob', publicKey: encodePublicKey(bob.publicKey) }, now);
  const oneRole: [string, Role[]][] = [['sec', ['security']], ['vic', ['viewer']], ['oscar', ['operator']], ['mallory', ['operator', 'security']]];
  for (const [name, roles] of oneRole) {
    const k = generateSigningKeyPair(rng);
    await t.store.addPrincipal({ name, publicKey: encodePublicKey(k.publicKey), secretKey: k.secretKey.subarray(0, 32), roles }, now);
  }
  const tokens: Record<string, string> = {};
  for (const name of ['alice', 'bob', ...oneRole.map(([n]) => n)]) {
    tokens[name] = newToken(rng);
    await t.store.addToken({ hash: hashToken(tokens[name]), principal: name, label: 'test' }, now);
  }
  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  return {
    app,
    store: t.store,
    commands,
    clock,
    metrics,
    keys: { alice, bob, service } as Record<string, SigningKeyPair>,
    tokens,
    secretText: (k: SigningKeyPair) => encodeSecretKey(k),
    as,
    async close() {
      try {
        await app.close();
      } finally {
        await t.cleanup();
      }
    },
  };
}
