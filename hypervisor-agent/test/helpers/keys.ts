import { randomBytes } from 'node:crypto';
import { encodePublicKey, generateSigningKeyPair, type SigningKeyPair } from '@backchannel/proto';

export const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export interface TestPrincipals {
  alice: SigningKeyPair;
  bob: SigningKeyPair;
  carol: SigningKeyPair;
  mallory: SigningKeyPair;
}

export function makePrincipals(): TestPrincipals {
  return { alice: generateSigningKeyPair(rnd), bob: generateSigningKeyPair(rnd), carol: generateSigningKeyPair(rnd), mallory: generateSigningKeyPair(rnd) };
}

/** alice: operator on web-*; bob, carol: admins everywhere; destroy/reset on db-* need 2 of alice/bob/carol. */
export function makePolicyJson(p: TestPrincipals, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    principals: {
      alice: { publicKeys: [encodePublicKey(p.alice.publicKey)], roles: ['operator', 'viewer'] },
      bob: { publicKeys: [encodePublicKey(p.bob.publicKey)], roles: ['admin'] },
      carol: { publicKeys: [encodePublicKey(p.carol.publicKey)], roles: ['admin'] },
    },
    roles: {
      operator: { actions: ['start', 'shutdown', 'reboot', 'suspend', 'resume', 'destroy', 'reset'], domains: ['web-*'] },
      viewer: { actions: ['list_domains', 'domain_info'], domains: ['*'] },
      admin: { actions: ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'], domains: ['*'] },
    },
    approvals: [{ actions: ['destroy', 'reset'], domains: ['db-*'], required: 2, approvers: ['alice', 'bob', 'carol'] }],
    readOnlyActions: ['list_domains', 'domain_info'],
    challengeTtlSeconds: 60,
    ...overrides,
  };
}
