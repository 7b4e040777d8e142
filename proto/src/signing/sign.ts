/** Ed25519 detached signatures over canonical bytes, as protobuf Signature values. */
import { WireError } from '../errors.js';
import type { Alert, Challenge, CommandRequest, Signature } from '../messages/schema.js';
import { canonicalAlertBytes, canonicalChallengeBytes, canonicalRequestBytes } from './canonical.js';
import { SIGNATURE_LENGTH, PUBLIC_KEY_LENGTH, signDetached, verifyDetached } from './ed25519.js';
import { keyId, type SigningKeyPair } from './keys.js';

export function signBytes(bytes: Uint8Array, pair: SigningKeyPair): Signature {
  return { keyId: keyId(pair.publicKey), signature: signDetached(bytes, pair.secretKey) };
}

/** True only for a well-formed signature by `publicKey` over `bytes`; never throws on bad input. */
export function verifyBytes(bytes: Uint8Array, signature: Signature | null | undefined, publicKey: Uint8Array): boolean {
  const sig = signature?.signature;
  if (!sig || sig.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (signature.keyId && signature.keyId !== keyId(publicKey)) return false;
  return verifyDetached(bytes, sig, publicKey);
}

export function assertSignatureShape(signature: Signature | null | undefined): asserts signature is Signature {
  if (!signature?.signature || signature.signature.length !== SIGNATURE_LENGTH) {
    throw new WireError('ERR_SIGNATURE_MALFORMED', 'signature must be 64 bytes');
  }
}

export const signRequest = (request: CommandRequest, pair: SigningKeyPair): Signature => signBytes(canonicalRequestBytes(request), pair);
export const verifyRequest = (request: CommandRequest, publicKey: Uint8Array): boolean =>
  verifyBytes(canonicalRequestBytes(request), request.principalSignature, publicKey);

export const signChallenge = (challenge: Challenge, pair: SigningKeyPair): Signature => signBytes(canonicalChallengeBytes(challenge), pair);
export const verifyChallengeSignature = (challenge: Challenge, signature: Signature, publicKey: Uint8Array): boolean =>
  verifyBytes(canonicalChallengeBytes(challenge), signature, publicKey);

export const signAlert = (alert: Alert, pair: SigningKeyPair): Signature => signBytes(canonicalAlertBytes(alert), pair);
export const verifyAlert = (alert: Alert, publicKey: Uint8Array): boolean =>
  verifyBytes(canonicalAlertBytes(alert), alert.hostSignature, publicKey);
