import { describe, expect, it } from 'vitest';
import { getLanParameter, setLanParameter } from '../../src/lan/lan-commands.js';
import { LanConfig } from '../../src/lan/lan-config.js';
import { readNetworkFacts } from '../../src/lan/network-facts.js';
import { tempDir } from '../helpers/temp-dir.js';

const facts = () => ({ ipv4: '192.0.2.5', netmask: '255.255.255.0', mac: '02:00:00:00:00:05', gateway: '192.0.2.1', gatewayMac: '02:fc:00:00:00:01' });

describe('LAN configuration parameters', () => {
  it('reads the addresses the daemon uses and the suites it offers', () => {
    const lan = new LanConfig({ suites: [17, 3], facts });
    const get = (p: number) => getLanParameter(lan, 1, Uint8Array.of(1, p, 0, 0));
    expect(get(3)).toEqual({ cc: 0, data: Uint8Array.of(0x11, 192, 0, 2, 5) });
    expect(get(5).data).toEqual(Uint8Array.of(0x11, 2, 0, 0, 0, 0, 5));
    expect(get(12).data).toEqual(Uint8Array.of(0x11, 192, 0, 2, 1));
    expect(get(22).data).toEqual(Uint8Array.of(0x11, 2));
    expect(get(23).data).toEqual(Uint8Array.of(0x11, 0, 17, 3));
    // Parameter 24 by suite id: suite 3 at administrator (upper nibble of the second byte).
    expect(get(24).data).toEqual(Uint8Array.of(0x11, 0, 0x00, 0x40, 0, 0, 0, 0, 0, 0));
    expect(get(16).cc).toBe(0x80); // no SNMP community here
    expect(getLanParameter(lan, 1, Uint8Array.of(2, 3, 0, 0)).cc).toBe(0xcc); // not our channel
    expect(getLanParameter(lan, 1, Uint8Array.of(0x81, 3, 0, 0)).data).toEqual(Uint8Array.of(0x11)); // revision only
  });

  it('writes only what it can apply: set-in-progress and the cipher suite privilege limits (kept in lan.json); addresses are read-only', () => {
    const dir = tempDir('bmc-lan-');
    const lan = new LanConfig({ suites: [17, 3], facts, stateDir: dir });
    expect(setLanParameter(lan, 1, Uint8Array.of(1, 3, 10, 0, 0, 1)).cc).toBe(0x82);
    expect(setLanParameter(lan, 1, Uint8Array.of(1, 40, 0)).cc).toBe(0x80);
    expect(setLanParameter(lan, 1, Uint8Array.of(1, 0, 1)).cc).toBe(0);
    expect(getLanParameter(lan, 1, Uint8Array.of(1, 0, 0, 0)).data).toEqual(Uint8Array.of(0x11, 1));
    expect(setLanParameter(lan, 1, Uint8Array.of(1, 24, 0, 0x00, 0x20, 0, 0, 0, 0, 0, 0)).cc).toBe(0); // suite 3 → USER
    expect(lan.suiteLimit(3)).toBe(2);
    expect(lan.suiteLimit(17)).toBe(4);
    expect(new LanConfig({ suites: [17, 3], facts, stateDir: dir }).suiteLimit(3)).toBe(2);
  });

  it('reads this machine\'s facts for a loopback listener', () => {
    expect(readNetworkFacts('127.0.0.1')).toMatchObject({ ipv4: '127.0.0.1', netmask: '255.0.0.0', gateway: '0.0.0.0' });
  });
});
