import fc from 'fast-check';
import { expect, it } from 'vitest';
import { decodeTunnelMessage, encodeTunnelMessage, fromHex, type TunnelMessage } from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

codecFixtureTests<TunnelMessage>(
  'serial tunnel messages',
  { encode: encodeTunnelMessage, decode: decodeTunnelMessage },
  [
    // kind 11, id 0x0102, netfn 2e, cmd 00 (Get Queue Info), IANA d9 7e 00, queue 01
    { name: 'request Get Queue Info', bytes: fromHex('1102012e00d97e0001'), value: { kind: 'request', id: 0x0102, netfn: 0x2e, cmd: 0x00, data: fromHex('d97e0001') } },
    // kind 12, id 0x0102, cc 00, IANA
    { name: 'response', bytes: fromHex('12020100d97e00'), value: { kind: 'response', id: 0x0102, cc: 0, data: fromHex('d97e00') } },
    { name: 'response cc C4 without data', bytes: fromHex('120000c4'), value: { kind: 'response', id: 0, cc: 0xc4, data: new Uint8Array() } },
    { name: 'attention', bytes: fromHex('13'), value: { kind: 'attention' } },
  ],
  [
    { name: 'empty', bytes: new Uint8Array(), code: 'ERR_TRUNCATED' },
    { name: 'short request', bytes: fromHex('11020100'), code: 'ERR_TRUNCATED' },
    { name: 'short response', bytes: fromHex('120201'), code: 'ERR_TRUNCATED' },
    { name: 'attention with bytes', bytes: fromHex('1300'), code: 'ERR_TRAILING_BYTES' },
    { name: 'unknown kind / version 2', bytes: fromHex('21'), code: 'ERR_BAD_FIELD' },
  ],
);

it('random bytes throw only WireError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => onlyWireErrors(() => decodeTunnelMessage(b))));
});

it('rejects an id beyond u16 on encode', () => {
  expect(() => encodeTunnelMessage({ kind: 'response', id: 70000, cc: 0, data: new Uint8Array() })).toThrow(/u16/);
});
