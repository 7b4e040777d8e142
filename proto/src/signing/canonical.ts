/**
 * Canonical bytes that signatures cover. Deliberately not the protobuf
 * encoding (which is not canonical across implementations): a fixed field
 * order, each field as a 4-byte big-endian length and its bytes, integers as
 * 8-byte big-endian, after a domain-separation label that differs per kind.
 * A signature made for one kind can therefore never verify as another.
 * Layouts in docs/protocol.md "Signatures".
 */
import { createHash } from 'node:crypto';
import { concatBytes, u32BE, u64BE, utf8 } from '../bytes.js';
import { WireError } from '../errors.js';
import type { Alert, Challenge, CommandRequest } from '../messages/schema.js';

export const SIGNING_LABELS = {
  commandRequest: 'backchannel/v1 command-request',
  challengeResponse: 'backchannel/v1 challenge-response',
  alert: 'backchannel/v1 alert',
} as const;

class CanonicalWriter {
  readonly #parts: Uint8Array[] = [];

  constructor(label: string) {
    this.#parts.push(utf8(label), new Uint8Array([0]));
  }

  bytes(value: Uint8Array): this {
    this.#parts.push(u32BE(value.length), value);
    return this;
  }

  text(value: string): this {
    return this.bytes(utf8(value));
  }

  u64(value: number, field: string): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new WireError('ERR_BAD_FIELD', `${field} must be a non-negative integer`);
    this.#parts.push(u64BE(value));
    return this;
  }

  finish(): Uint8Array {
    return concatBytes(this.#parts);
  }
}

export function canonicalRequestBytes(request: CommandRequest): Uint8Array {
  const params = Object.entries(request.parameters ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const w = new CanonicalWriter(SIGNING_LABELS.commandRequest)
    .text(request.requestId ?? '')
    .text(request.hostId ?? '')
    .text(request.principal ?? '')
    .u64(request.action ?? 0, 'action')
    .text(request.domain ?? '')
    .u64(params.length, 'parameters');
  for (const [key, value] of params) w.text(key).text(value);
  return w.u64(request.issuedAtMs ?? 0, 'issuedAtMs').finish();
}

/** SHA-256 of the canonical request bytes; a challenge names the request by it. */
export function requestDigest(request: CommandRequest): Uint8Array {
  return new Uint8Array(createHash('sha256').update(canonicalRequestBytes(request)).digest());
}

export function canonicalChallengeBytes(challenge: Challenge): Uint8Array {
  return new CanonicalWriter(SIGNING_LABELS.challengeResponse)
    .text(challenge.requestId ?? '')
    .text(challenge.hostId ?? '')
    .bytes(challenge.nonce ?? new Uint8Array())
    .u64(challenge.expiresAtMs ?? 0, 'expiresAtMs')
    .bytes(challenge.requestDigest ?? new Uint8Array())
    .finish();
}

export function canonicalAlertBytes(alert: Alert): Uint8Array {
  return new CanonicalWriter(SIGNING_LABELS.alert)
    .text(alert.id ?? '')
    .u64(alert.kind ?? 0, 'kind')
    .text(alert.hostId ?? '')
    .text(alert.principal ?? '')
    .u64(alert.action ?? 0, 'action')
    .text(alert.domain ?? '')
    .text(alert.reason ?? '')
    .u64(alert.timeMs ?? 0, 'timeMs')
    .text(alert.requestId ?? '')
    .finish();
}
