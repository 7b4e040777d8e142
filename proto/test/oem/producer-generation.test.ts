import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClaimGenerationRequest,
  decodeClaimGenerationRequest,
  decodeGenerationResponse,
  encodeClaimGenerationRequest,
  encodeGenerationResponse,
  fromHex,
  type GenerationResponse,
  OemCommand,
  OemCompletion,
} from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

it('uses the next free OEM queue command and completion code (docs/bmc-queues.md "Producer generation")', () => {
  expect(OemCommand.ClaimProducerGeneration).toBe(0x04);
  expect(OemCompletion.Fenced).toBe(0x81);
});

codecFixtureTests<ClaimGenerationRequest>(
  'OEM 0x04 Claim Producer Generation request',
  { encode: encodeClaimGenerationRequest, decode: decodeClaimGenerationRequest },
  [
    {
      // ipmitool raw 0x2e 0x04 0xd9 0x7e 0x00 0x07 0x00 0x00 0x00
      name: 'generation 7, default PEN',
      bytes: fromHex('d97e00' /* IANA 32473 */ + '07000000' /* generation 7 */),
      value: { iana: 32473, generation: 7 },
    },
    { name: 'largest generation', bytes: fromHex('d97e00' + 'ffffffff'), value: { iana: 32473, generation: 0xffffffff } },
  ],
  [
    { name: 'IANA only', bytes: fromHex('d97e00'), code: 'ERR_TRUNCATED' },
    { name: 'generation cut short', bytes: fromHex('d97e00' + '070000'), code: 'ERR_TRUNCATED' },
    { name: 'a byte too many', bytes: fromHex('d97e00' + '0700000000'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests<GenerationResponse>(
  'OEM 0x04 response (and the body of cc 0x81)',
  { encode: encodeGenerationResponse, decode: decodeGenerationResponse },
  [{ name: 'current generation 9', bytes: fromHex('d97e00' + '09000000' /* current_generation 9 */), value: { iana: 32473, currentGeneration: 9 } }],
  [
    { name: 'IANA only', bytes: fromHex('d97e00'), code: 'ERR_TRUNCATED' },
    { name: 'trailing byte', bytes: fromHex('d97e00' + '0900000000'), code: 'ERR_TRAILING_BYTES' },
  ],
);

describe('producer generation codec properties', () => {
  it('round-trips any u32 and refuses what is not one', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (g) => decodeClaimGenerationRequest(encodeClaimGenerationRequest({ iana: 32473, generation: g })).generation === g));
    expect(() => encodeClaimGenerationRequest({ iana: 32473, generation: -1 })).toThrow(/u32/);
    expect(() => encodeGenerationResponse({ iana: 32473, currentGeneration: 2 ** 32 })).toThrow(/u32/);
  });
  it('random bytes throw only the codec error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), (b) => onlyWireErrors(() => decodeClaimGenerationRequest(b))));
  });
});
