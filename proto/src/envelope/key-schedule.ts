/**
 * Per-time-step envelope keys (ARCHITECTURE.md "Security model").
 *
 *   step  = floor(unix_seconds / period)                     (RFC 6238 T)
 *   totp  = TOTP(seed, step), HMAC-SHA-256, 8 digits, via otplib
 *   key   = HKDF-SHA256(ikm = seed,
 *                       salt = ascii(totp) || u64be(step),
 *                       info = "backchannel/v1 envelope" || 0x00 || direction || host_id,
 *                       32 bytes)
 *
 * The TOTP value alone (8 decimal digits) is never a key: the 32-byte seed is
 * the secret; the TOTP salt binds each key to its time step the way the
 * design paper's TOTP-keyed cipher does. Direction and host id in `info`
 * give every (host, direction, step) its own key.
 */
import { hkdfSync } from 'node:crypto';
import { generateSync } from 'otplib';
import { concatBytes, u64BE, utf8 } from '../bytes.js';
import { WireError } from '../errors.js';
import type { Direction } from '../messages/schema.js';

export const SEED_BYTES = 32;
export const DEFAULT_STEP_SECONDS = 30;
export const DEFAULT_SKEW_STEPS = 1;
export const TOTP_DIGITS = 8;
const HKDF_INFO_LABEL = 'backchannel/v1 envelope';

export function timeStepAt(nowMs: number, stepSeconds: number): number {
  return Math.floor(nowMs / 1000 / stepSeconds);
}

/** RFC 6238 TOTP (HMAC-SHA-256, 8 digits) of `seed` for time step `step`. */
export function totpForStep(seed: Uint8Array, step: number, stepSeconds: number): string {
  return generateSync({
    secret: seed,
    epoch: step * stepSeconds,
    period: stepSeconds,
    algorithm: 'sha256',
    digits: TOTP_DIGITS,
  });
}

export function hkdfInfo(direction: Direction, hostId: string): Uint8Array {
  return concatBytes([utf8(HKDF_INFO_LABEL), new Uint8Array([0, direction]), utf8(hostId)]);
}

export function deriveStepKey(
  seed: Uint8Array,
  hostId: string,
  direction: Direction,
  step: number,
  stepSeconds: number,
): Uint8Array {
  if (seed.length !== SEED_BYTES) {
    throw new WireError('ERR_ENVELOPE_BAD_SEED', `host seed must be ${SEED_BYTES} bytes, got ${seed.length}`);
  }
  const salt = concatBytes([utf8(totpForStep(seed, step, stepSeconds)), u64BE(step)]);
  return new Uint8Array(hkdfSync('sha256', seed, salt, hkdfInfo(direction, hostId), 32));
}

export interface EnvelopeKeyOptions {
  /** Length of one time step in seconds (default 30). */
  stepSeconds?: number;
  /** How many steps either side of the receiver's own a message may be (default 1). */
  skewSteps?: number;
}

/**
 * One host's key material and step policy. Keeps the last few derived keys,
 * since every message in a step uses the same one.
 */
export class EnvelopeKeys {
  readonly hostId: string;
  readonly stepSeconds: number;
  readonly skewSteps: number;
  readonly #seed: Uint8Array;
  readonly #cache = new Map<string, Uint8Array>();

  constructor(seed: Uint8Array, hostId: string, options: EnvelopeKeyOptions = {}) {
    if (seed.length !== SEED_BYTES) {
      throw new WireError('ERR_ENVELOPE_BAD_SEED', `host seed must be ${SEED_BYTES} bytes, got ${seed.length}`);
    }
    if (hostId.length === 0 || utf8(hostId).length > 128) {
      throw new WireError('ERR_BAD_FIELD', 'host id must be 1..128 bytes of UTF-8');
    }
    this.#seed = Uint8Array.from(seed);
    this.hostId = hostId;
    this.stepSeconds = options.stepSeconds ?? DEFAULT_STEP_SECONDS;
    this.skewSteps = options.skewSteps ?? DEFAULT_SKEW_STEPS;
    if (!Number.isInteger(this.stepSeconds) || this.stepSeconds < 1) throw new RangeError('stepSeconds must be a positive integer');
    if (!Number.isInteger(this.skewSteps) || this.skewSteps < 0) throw new RangeError('skewSteps must be a non-negative integer');
  }

  stepAt(nowMs: number): number {
    return timeStepAt(nowMs, this.stepSeconds);
  }

  keyFor(direction: Direction, step: number): Uint8Array {
    const id = `${direction}:${step}`;
    let key = this.#cache.get(id);
    if (!key) {
      key = deriveStepKey(this.#seed, this.hostId, direction, step, this.stepSeconds);
      if (this.#cache.size >= 16) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(id, key);
    }
    return key;
  }
}
