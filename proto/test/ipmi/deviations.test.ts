/**
 * Tolerant response decoders: answers real BMCs give that are shorter or
 * longer than the spec decode to what their well-formed bytes mean, and
 * each deviation is counted, never thrown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeChannelAuthCapabilities, decodeChannelCipherSuitesResponse, decodeChassisStatus, decodeDeviceId, DeviationCounter, fromHex as h, ipmiDeviations, isWireError } from '../../src/index.js';

describe('tolerant IPMI response decoders', () => {
  it("accepts pyghmi's 14-byte Get Device ID (manufacturer and product as 4 bytes each) and counts it", () => {
    // Captured from pyghmi.ipmi.bmc (python3-pyghmi 1.5.34): device 0, rev 0, fw 1.00, IPMI 2.0, no support bits, mfg 0, product 0.
    const counter = new DeviationCounter();
    const id = decodeDeviceId(h('00 00 01 00 02 00 00000000 00000000'), counter.sink);
    expect(id).toMatchObject({ deviceId: 0, firmwareMajor: 1, ipmiVersion: 2, manufacturerId: 0, productId: 0 });
    expect(id.auxFirmwareRevision).toEqual(h('00 00 00 00'));
    expect(counter.snapshot()).toEqual({ 'Get Device ID: aux-length': 1 });
  });

  it('reads missing trailing bytes as 0 and ignores extra ones, counting each', () => {
    const counter = new DeviationCounter();
    expect(decodeDeviceId(h('20 01 00 01 02 80 d97e00 01'), counter.sink)).toMatchObject({ manufacturerId: 32473, productId: 1 });
    expect(decodeDeviceId(h('20 01 00 01 02 80 d97e00 0100 00000000 ffff'), counter.sink).productId).toBe(1);
    expect(decodeChassisStatus(h('01'), counter.sink)).toEqual({ currentPowerState: 1, lastPowerEvent: 0, miscChassisState: 0 });
    expect(decodeChassisStatus(h('01 00 00 00 ee ee'), counter.sink).frontPanelButtons).toBe(0);
    expect(decodeChannelAuthCapabilities(h('01 80 04 02'), counter.sink)).toMatchObject({ channel: 1, supportsIpmi20: true, oemIana: 0 });
    expect(decodeChannelAuthCapabilities(h('01 80 04 02 000000 00 99'), counter.sink).oemAux).toBe(0);
    expect(decodeChannelCipherSuitesResponse(h(`01 ${'c0'.repeat(18)}`), counter.sink).recordData.length).toBe(16);
    expect(counter.snapshot()).toEqual({
      'Get Device ID: short': 1,
      'Get Device ID: long': 1,
      'Get Chassis Status: short': 1,
      'Get Chassis Status: long': 1,
      'Get Channel Auth Capabilities: short': 1,
      'Get Channel Auth Capabilities: long': 1,
      'Get Channel Cipher Suites: long': 1,
    });
    expect(counter.total).toBe(7);
  });

  it('counts in the process-wide ipmiDeviations when no sink is given; well-formed answers count nothing', () => {
    const before = ipmiDeviations.total;
    decodeDeviceId(h('20 01 00 01 02 80 d97e00 0100'));
    expect(ipmiDeviations.total).toBe(before);
    decodeDeviceId(h('20 01 00 01 02 80 d97e00 0100 0000'));
    expect(ipmiDeviations.total).toBe(before + 1);
  });

  it('random bytes never throw anything but the codec error', () => {
    const counter = new DeviationCounter();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        for (const decode of [decodeDeviceId, decodeChassisStatus, decodeChannelAuthCapabilities, decodeChannelCipherSuitesResponse]) {
          try {
            decode(b, counter.sink);
          } catch (err) {
            expect(isWireError(err)).toBe(true);
          }
        }
      }),
    );
  });
});
