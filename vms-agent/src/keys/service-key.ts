/**
 * vms-agent's own Ed25519 key: signs command requests of principals whose
 * keys it does not hold. Created on first use and kept encrypted in the
 * store; its public key goes into every enrollment bundle
 * (`managerPublicKeys`) so hypervisor-agents can check those requests.
 */
import { type RandomBytes, type SigningKeyPair, signingKeyPairFromSeed } from '@backchannel/proto';
import type { Store } from '../store/store.js';

export async function serviceKeyPair(store: Store, randomBytes: RandomBytes): Promise<SigningKeyPair> {
  return signingKeyPairFromSeed(await store.getOrCreateServiceKey(() => randomBytes(32)));
}
