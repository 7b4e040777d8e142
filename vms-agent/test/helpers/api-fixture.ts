import { encodePublicKey, encodeSecretKey, generateSigningKeyPair, type SigningKeyPair } from '@backchannel/proto';
import { buildApp } from '../../src/api/app.js';
import { hashToken, newToken } from '../../src/api/auth.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import type { LinkHealth } from '../../src/api/views.js';
import { CommandService } from '../../src/commands/command-service.js';
import { hostInput, rng, tempStore } from './temp-store.js';

/** A real app on a real SQLite file, with alice (custodial key) and bob (operator-held key). */
export async function apiFixture(linkHealth?: (hostId: string) => LinkHealth | undefined) {
  const t = tempStore();
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const service = generateSigningKeyPair(rng);
  const commands = new CommandService({ store: t.store, clock: clock.now, randomBytes: rng, serviceKey: service });
  const metrics = new ServiceMetrics();
  const app = await buildApp({ store: t.store, commands, metrics, clock: clock.now, ...(linkHealth ? { linkHealth } : {}) });
  const alice = generateSigningKeyPair(rng);
  const bob = generateSigningKeyPair(rng);
  await t.store.addHost(hostInput('hv-01', { hostPublicKey: 'ed25519:' + Buffer.alloc(32).toString('base64') }), now);
  await t.store.addPrincipal({ name: 'alice', publicKey: encodePublicKey(alice.publicKey), secretKey: alice.secretKey.subarray(0, 32) }, now);
  await t.store.addPrincipal({ name: 'bob', publicKey: encodePublicKey(bob.publicKey) }, now);
  const tokens: Record<string, string> = {};
  for (const name of ['alice', 'bob']) {
    tokens[name] = newToken(rng);
    await t.store.addToken({ hash: hashToken(tokens[name]), principal: name, label: 'test' }, now);
  }
  const as = (who: 'alice' | 'bob') => ({ authorization: `Bearer ${tokens[who]}` });
  return {
    app,
    store: t.store,
    commands,
    clock,
    metrics,
    keys: { alice, bob, service } as Record<string, SigningKeyPair>,
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
