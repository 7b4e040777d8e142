/**
 * OEM command 0x04, Claim Producer Generation (docs/bmc-queues.md
 * "Producer generation"): the fencing token of the manager replica that
 * holds a host's link. A LAN session claims a generation; the BMC keeps
 * the highest one claimed and refuses Put Record and Get Record (cc 0x81)
 * from LAN sessions bound to an older one, so a replica that lost its
 * lease cannot write to the host's queue after the new owner claimed.
 *
 *   request   IANA[3] generation[4]
 *   response  IANA[3] current_generation[4]     (cc 0x00 claimed, 0x81 older than current)
 *
 * The 0x81 body of a refused Put or Get Record is the same as this
 * response's: IANA[3] current_generation[4]. Integers little-endian.
 */
import { readU32LE, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { IANA_BYTES } from './constants.js';
import { encodeIana, readIana } from './iana.js';

export interface ClaimGenerationRequest {
  iana: number;
  /** 1..2^32-1; 0 means "no generation" and is refused (0xCC). */
  generation: number;
}

export interface GenerationResponse {
  iana: number;
  currentGeneration: number;
}

export const CLAIM_GENERATION_REQUEST_BYTES = IANA_BYTES + 4;
export const GENERATION_RESPONSE_BYTES = IANA_BYTES + 4;

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u32`);
}

function exact(data: Uint8Array, length: number, what: string): void {
  if (data.length < length) throw new WireError('ERR_TRUNCATED', `${what}: need ${length} bytes, have ${data.length}`, data.length);
  if (data.length > length) throw new WireError('ERR_TRAILING_BYTES', `${what}: ${data.length - length} byte(s) too many`, length);
}

export function encodeClaimGenerationRequest(r: ClaimGenerationRequest): Uint8Array {
  checkU32(r.generation, 'generation');
  const out = new Uint8Array(CLAIM_GENERATION_REQUEST_BYTES);
  encodeIana(r.iana, out, 0);
  writeU32LE(out, IANA_BYTES, r.generation);
  return out;
}

export function decodeClaimGenerationRequest(data: Uint8Array): ClaimGenerationRequest {
  exact(data, CLAIM_GENERATION_REQUEST_BYTES, 'Claim Producer Generation');
  return { iana: readIana(data, 0), generation: readU32LE(data, IANA_BYTES) };
}

export function encodeGenerationResponse(r: GenerationResponse): Uint8Array {
  checkU32(r.currentGeneration, 'current_generation');
  const out = new Uint8Array(GENERATION_RESPONSE_BYTES);
  encodeIana(r.iana, out, 0);
  writeU32LE(out, IANA_BYTES, r.currentGeneration);
  return out;
}

export function decodeGenerationResponse(data: Uint8Array): GenerationResponse {
  exact(data, GENERATION_RESPONSE_BYTES, 'Claim Producer Generation response');
  return { iana: readIana(data, 0), currentGeneration: readU32LE(data, IANA_BYTES) };
}
