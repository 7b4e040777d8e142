import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeVmControlPayload,
  encodeVmControlFrame,
  encodeVmControlPayload,
  fromHex,
  toHex,
  VmCapability,
  type VmControl,
  VmFrameDecoder,
} from '../../src/index.js';
import { codecFixtureTests, onlyWireErrors } from '../helpers/codec-fixture.js';

codecFixtureTests<VmControl>(
  'VM control payload',
  { encode: encodeVmControlPayload, decode: decodeVmControlPayload },
  [
    { name: 'version 1', bytes: fromHex('ff01'), value: { kind: 'version', version: 1 } },
    // QEMU 7.2 with isa-ipmi-kcs sends 08 3F (KVM-NOTES.md): power, reset, irq, nmi, attn, graceful shutdown.
    { name: 'capabilities 0x3f', bytes: fromHex('083f'), value: { kind: 'capabilities', capabilities: 0x3f } },
    { name: 'clear ATN', bytes: fromHex('00'), value: { kind: 'no-attn' } },
    { name: 'set ATN', bytes: fromHex('01'), value: { kind: 'attn' } },
    { name: 'set ATN with IRQ', bytes: fromHex('02'), value: { kind: 'attn-irq' } },
    { name: 'power off', bytes: fromHex('03'), value: { kind: 'power-off' } },
    { name: 'reset', bytes: fromHex('04'), value: { kind: 'reset' } },
    { name: 'enable IRQ', bytes: fromHex('05'), value: { kind: 'enable-irq' } },
    { name: 'disable IRQ', bytes: fromHex('06'), value: { kind: 'disable-irq' } },
    { name: 'send NMI', bytes: fromHex('07'), value: { kind: 'send-nmi' } },
    { name: 'graceful shutdown', bytes: fromHex('09'), value: { kind: 'graceful-shutdown' } },
    { name: 'unknown 0x42 with operands', bytes: fromHex('421234'), value: { kind: 'unknown', code: 0x42, operands: fromHex('1234') } },
  ],
  [
    { name: 'empty', bytes: new Uint8Array(), code: 'ERR_TRUNCATED' },
    { name: 'version without operand', bytes: fromHex('ff'), code: 'ERR_TRUNCATED' },
    { name: 'capabilities without operand', bytes: fromHex('08'), code: 'ERR_TRUNCATED' },
  ],
);

describe('VM control frames', () => {
  it('QEMU connect bytes FF 01 A1 08 3F A1 decode to version and capabilities', () => {
    const events = new VmFrameDecoder().push(fromHex('ff01a1083fa1'));
    expect(events.map((e) => (e.kind === 'control' ? decodeVmControlPayload(e.payload) : e))).toEqual([
      { kind: 'version', version: 1 },
      { kind: 'capabilities', capabilities: 0x3f },
    ]);
  });

  it('frames end with A1 and escape operands', () => {
    expect(toHex(encodeVmControlFrame({ kind: 'attn' }))).toBe('01a1');
    expect(toHex(encodeVmControlFrame({ kind: 'capabilities', capabilities: 0xa0 }))).toBe('08aab0a1');
    expect(VmCapability.Attn).toBe(0x10);
  });

  it('random bytes never throw anything but WireError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => onlyWireErrors(() => decodeVmControlPayload(bytes))));
  });
});
