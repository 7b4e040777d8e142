/**
 * The pure half of request-challenge-verify (ARCHITECTURE.md "Security model"):
 * issue a challenge for an allowed request, and judge a ChallengeResponse
 * against it. Time and randomness are parameters; the caller persists the
 * challenge, the approvals gathered so far and the nonce's single use.
 *
 * k-of-n: each valid signature by a distinct approver counts once; signatures
 * may arrive in several responses before the challenge expires. A signature
 * that does not verify for any listed approver ends the request (bad signature).
 */
import {
  type Challenge,
  type ChallengeResponse,
  type CommandRequest,
  bytesEqual,
  type RandomBytes,
  requestDigest,
  verifyChallengeSignature,
} from '@backchannel/proto';
import type { Policy } from '../policy/policy.js';

export const NONCE_BYTES = 32;

export function issueChallenge(args: {
  hostId: string;
  request: CommandRequest;
  approvalsRequired: number;
  approvers: string[];
  nowMs: number;
  ttlMs: number;
  randomBytes: RandomBytes;
}): Challenge {
  const nonce = args.randomBytes(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) throw new RangeError('randomBytes returned the wrong length');
  return {
    requestId: args.request.requestId ?? '',
    nonce,
    expiresAtMs: args.nowMs + args.ttlMs,
    requestDigest: requestDigest(args.request),
    hostId: args.hostId,
    approvalsRequired: args.approvalsRequired,
    approvers: [...args.approvers],
  };
}

export type ResponseVerdict =
  | { kind: 'approved'; approvers: string[] }
  | { kind: 'pending'; approvers: string[]; needed: number }
  | { kind: 'bad-signature'; reason: string; principal?: string }
  | { kind: 'expired'; reason: string };

export function judgeResponse(args: {
  policy: Policy;
  challenge: Challenge;
  priorApprovals: readonly string[];
  response: ChallengeResponse;
  nowMs: number;
}): ResponseVerdict {
  const { policy, challenge, response, nowMs } = args;
  const expiresAt = challenge.expiresAtMs ?? 0;
  if (nowMs > expiresAt) return { kind: 'expired', reason: `challenge for request ${challenge.requestId} expired ${nowMs - expiresAt} ms before the response arrived` };
  if (!bytesEqual(response.nonce ?? new Uint8Array(), challenge.nonce ?? new Uint8Array())) {
    return { kind: 'bad-signature', reason: 'the response names a different nonce than the challenge' };
  }
  const signatures = response.signatures ?? [];
  if (signatures.length === 0) return { kind: 'bad-signature', reason: 'the response carries no signature' };
  const approvers = new Set(args.priorApprovals);
  for (const signature of signatures) {
    let signer: string | undefined;
    for (const name of challenge.approvers ?? []) {
      const keys = policy.principals.get(name)?.keys ?? [];
      if (keys.some((k) => (!signature.keyId || k.keyId === signature.keyId) && verifyChallengeSignature(challenge, signature, k.publicKey))) {
        signer = name;
        break;
      }
    }
    if (!signer) {
      return { kind: 'bad-signature', reason: `signature by key ${signature.keyId || '(no key id)'} does not verify for any approver of request ${challenge.requestId}` };
    }
    approvers.add(signer);
  }
  const needed = challenge.approvalsRequired || 1;
  const list = [...approvers].sort();
  return list.length >= needed ? { kind: 'approved', approvers: list } : { kind: 'pending', approvers: list, needed };
}
