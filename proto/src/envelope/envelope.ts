/**
 * Sealed envelopes: the unit of end-to-end delivery between vms-agent and a
 * hypervisor-agent. Bytes (docs/protocol.md "Envelope"):
 *
 *   0      magic 0xBC
 *   1      format version 0x01
 *   2      header length L (1..255)
 *   3..    EnvelopeHeader (protobuf, L bytes)     } AES-GCM additional data
 *   ..     Body (protobuf), AES-256-GCM encrypted
 *   last16 GCM tag
 *
 * The receiver checks host, direction and time step from the cleartext
 * header before it spends a key derivation, then authenticates everything.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { concatBytes, type RandomBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { type backchannel, type Body, type Direction, decodeMessage, encodeBody, encodeMessage, v1 } from '../messages/schema.js';
import type { EnvelopeKeys } from './key-schedule.js';

export const ENVELOPE_MAGIC = 0xbc;
export const ENVELOPE_VERSION = 0x01;
export const ENVELOPE_PREFIX_BYTES = 3;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
export const MAX_HEADER_BYTES = 255;

export interface SealInput {
  direction: Direction;
  messageId: number;
  body: Body;
  nowMs: number;
  randomBytes: RandomBytes;
}

export interface OpenedEnvelope {
  header: backchannel.v1.EnvelopeHeader;
  body: backchannel.v1.Body;
}

export function sealEnvelope(keys: EnvelopeKeys, input: SealInput): Uint8Array {
  if (!Number.isSafeInteger(input.messageId) || input.messageId < 1) {
    throw new WireError('ERR_BAD_FIELD', `message id must be a positive safe integer, got ${input.messageId}`);
  }
  const step = keys.stepAt(input.nowMs);
  const iv = input.randomBytes(GCM_IV_BYTES);
  if (iv.length !== GCM_IV_BYTES) throw new WireError('ERR_BAD_FIELD', 'randomBytes returned the wrong length');
  const headerBytes = encodeMessage(
    v1.EnvelopeHeader,
    { hostId: keys.hostId, direction: input.direction, messageId: input.messageId, timeStep: step, iv },
    'EnvelopeHeader',
  );
  if (headerBytes.length > MAX_HEADER_BYTES) throw new WireError('ERR_BAD_FIELD', `envelope header is ${headerBytes.length} bytes, max ${MAX_HEADER_BYTES}`);
  const aad = concatBytes([new Uint8Array([ENVELOPE_MAGIC, ENVELOPE_VERSION, headerBytes.length]), headerBytes]);
  const cipher = createCipheriv('aes-256-gcm', keys.keyFor(input.direction, step), iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  // The sender's clock rides inside the authenticated body: the receiver learns the offset from it.
  // Appended as its own field (a later occurrence wins when decoded), so the body's unknown fields stay.
  const sentAt = v1.Body.encode({ sentAtMs: Math.max(0, Math.floor(input.nowMs)) }).finish();
  const plaintext = concatBytes([encodeBody(input.body), sentAt]);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return concatBytes([aad, ciphertext, cipher.getAuthTag()]);
}

/** Parses the cleartext header without decrypting (routing, diagnostics). */
export function peekEnvelopeHeader(bytes: Uint8Array): { header: backchannel.v1.EnvelopeHeader; headerEnd: number } {
  if (bytes.length < ENVELOPE_PREFIX_BYTES + 1 + GCM_TAG_BYTES) {
    throw new WireError('ERR_ENVELOPE_MALFORMED', `envelope too short: ${bytes.length} bytes`, bytes.length);
  }
  if (bytes[0] !== ENVELOPE_MAGIC) throw new WireError('ERR_ENVELOPE_MALFORMED', `bad magic 0x${(bytes[0] ?? 0).toString(16)}`, 0);
  if (bytes[1] !== ENVELOPE_VERSION) throw new WireError('ERR_ENVELOPE_BAD_VERSION', `unsupported envelope version ${bytes[1]}`, 1);
  const headerLength = bytes[2] ?? 0;
  const headerEnd = ENVELOPE_PREFIX_BYTES + headerLength;
  if (headerLength === 0 || headerEnd + GCM_TAG_BYTES > bytes.length) {
    throw new WireError('ERR_ENVELOPE_MALFORMED', `header length ${headerLength} does not fit in ${bytes.length} bytes`, 2);
  }
  let header: backchannel.v1.EnvelopeHeader;
  try {
    header = decodeMessage(v1.EnvelopeHeader, bytes.subarray(ENVELOPE_PREFIX_BYTES, headerEnd), 'EnvelopeHeader');
  } catch (err) {
    throw new WireError('ERR_ENVELOPE_MALFORMED', (err as Error).message, ENVELOPE_PREFIX_BYTES);
  }
  if (header.iv.length !== GCM_IV_BYTES) throw new WireError('ERR_ENVELOPE_MALFORMED', `iv must be ${GCM_IV_BYTES} bytes`, ENVELOPE_PREFIX_BYTES);
  if (!Number.isSafeInteger(header.messageId) || header.messageId < 1) {
    throw new WireError('ERR_ENVELOPE_MALFORMED', 'message id must be a positive integer', ENVELOPE_PREFIX_BYTES);
  }
  return { header, headerEnd };
}

/**
 * `anyStep`: authenticate under whatever step the header names and leave the
 * judgement of its time to the caller (InboundChannel, which knows the
 * peer's clock offset and how long a message may have waited). Without it,
 * a step outside `nowMs`'s ± skewSteps is refused before any key is derived.
 */
export function openEnvelope(
  keys: EnvelopeKeys,
  bytes: Uint8Array,
  expect: { direction: Direction; nowMs: number; anyStep?: boolean },
): OpenedEnvelope {
  const { header, headerEnd } = peekEnvelopeHeader(bytes);
  if (header.hostId !== keys.hostId) {
    throw new WireError('ERR_ENVELOPE_WRONG_HOST', `envelope is for host "${header.hostId}", this is "${keys.hostId}"`);
  }
  if (header.direction !== expect.direction) {
    throw new WireError('ERR_ENVELOPE_WRONG_DIRECTION', `envelope direction ${header.direction}, expected ${expect.direction}`);
  }
  const currentStep = keys.stepAt(expect.nowMs);
  if (!expect.anyStep && Math.abs(header.timeStep - currentStep) > keys.skewSteps) {
    throw new WireError(
      'ERR_ENVELOPE_STALE_STEP',
      `time step ${header.timeStep} is outside ${currentStep}±${keys.skewSteps}; check both clocks`,
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', keys.keyFor(header.direction, header.timeStep), header.iv, {
    authTagLength: GCM_TAG_BYTES,
  });
  decipher.setAAD(bytes.subarray(0, headerEnd));
  decipher.setAuthTag(bytes.subarray(bytes.length - GCM_TAG_BYTES));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(bytes.subarray(headerEnd, bytes.length - GCM_TAG_BYTES)), decipher.final()]);
  } catch {
    throw new WireError('ERR_ENVELOPE_TAMPERED', 'envelope failed authentication (wrong key, or altered in transit)');
  }
  let body: backchannel.v1.Body;
  try {
    body = decodeMessage(v1.Body, plaintext, 'Body');
  } catch (err) {
    throw new WireError('ERR_ENVELOPE_MALFORMED', `authenticated body does not decode: ${(err as Error).message}`);
  }
  return { header, body };
}
