// Property tests for every IPMI codec: decode(encode(x)) == x, and arbitrary
// bytes make a decoder return or throw WireError, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ipmi from '../../src/index.js';
import { onlyWireErrors } from '../helpers/codec-fixture.js';

const byte = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nibble = fc.integer({ min: 0, max: 0x0f });
const six = fc.integer({ min: 0, max: 0x3f });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const exact = (n: number) => bytes(n, n);
const runs = { numRuns: 300 };

const asf = fc.oneof(
  fc.record({ kind: fc.constant('ping' as const), messageTag: byte }),
  fc.record({ kind: fc.constant('pong' as const), messageTag: byte, oemIana: u32, oemDefined: u32, supportedEntities: byte, supportedInteractions: byte }),
);

const ipmi20 = fc
  .record({ payloadType: six, encrypted: fc.boolean(), authenticated: fc.boolean(), sessionId: u32, sessionSeq: u32, payload: bytes(0, 64), trailer: bytes(0, 24), iana: u32, payloadId: u16 })
  .map(({ iana, payloadId, ...s }) => {
    const out: ipmi.Ipmi20Session = { ...s, trailer: s.authenticated ? s.trailer : new Uint8Array(0) };
    if (s.payloadType === ipmi.PayloadType.OEM_EXPLICIT) out.oem = { iana, payloadId };
    return out;
  });

const datagram: fc.Arbitrary<ipmi.RmcpDatagram> = fc.oneof(
  fc.record({ kind: fc.constant('asf' as const), sequence: byte, message: asf }),
  fc.record({ kind: fc.constant('ipmi15' as const), session: fc.record({ sessionSeq: u32, sessionId: u32, message: bytes(0, 64) }) }),
  fc.record({ kind: fc.constant('ipmi20' as const), session: ipmi20 }),
);

const lanRequest = fc.record({ rsAddr: byte, netFn: six, rsLun: fc.integer({ min: 0, max: 3 }), rqAddr: byte, rqSeq: six, rqLun: fc.integer({ min: 0, max: 3 }), cmd: byte, data: bytes(0, 40) });
const lanResponse = fc.record({ rqAddr: byte, netFn: six, rqLun: fc.integer({ min: 0, max: 3 }), rsAddr: byte, rqSeq: six, rsLun: fc.integer({ min: 0, max: 3 }), cmd: byte, cc: byte, data: bytes(0, 40) });

const openRequest = fc.record({ messageTag: byte, requestedPrivilege: nibble, remoteConsoleSessionId: u32, authAlgorithm: six, integrityAlgorithm: six, confidentialityAlgorithm: six });
const openResponse: fc.Arbitrary<ipmi.OpenSessionResponse> = fc.oneof(
  fc.record({
    messageTag: byte,
    status: fc.constant(0 as const),
    maximumPrivilege: nibble,
    remoteConsoleSessionId: u32,
    managedSystemSessionId: u32,
    authAlgorithm: six,
    integrityAlgorithm: six,
    confidentialityAlgorithm: six,
  }),
  fc.record({ messageTag: byte, status: fc.integer({ min: 1, max: 0xff }), remoteConsoleSessionId: u32 }),
);

const rakp1 = fc.record({ messageTag: byte, managedSystemSessionId: u32, remoteConsoleRandom: exact(16), role: byte, userName: bytes(0, 16) });
const rakp2: fc.Arbitrary<ipmi.Rakp2> = fc.oneof(
  fc.record({ messageTag: byte, status: fc.constant(0 as const), remoteConsoleSessionId: u32, managedSystemRandom: exact(16), managedSystemGuid: exact(16), keyExchangeAuthCode: bytes(0, 32) }),
  fc.record({ messageTag: byte, status: fc.integer({ min: 1, max: 0xff }), remoteConsoleSessionId: u32 }),
);
const rakp3 = fc.record({ messageTag: byte, status: byte, managedSystemSessionId: u32, keyExchangeAuthCode: bytes(0, 32) });
const rakp4 = fc.record({ messageTag: byte, status: byte, remoteConsoleSessionId: u32, integrityCheckValue: bytes(0, 16) });

const caps = fc.record({
  channel: nibble,
  extendedCapabilities: fc.boolean(),
  authTypes: six,
  kgNonZero: fc.boolean(),
  perMessageAuthDisabled: fc.boolean(),
  userLevelAuthDisabled: fc.boolean(),
  nonNullUserNames: fc.boolean(),
  nullUserNames: fc.boolean(),
  anonymousLogin: fc.boolean(),
  supportsIpmi20: fc.boolean(),
  supportsIpmi15: fc.boolean(),
  oemIana: fc.integer({ min: 0, max: 0xffffff }),
  oemAux: byte,
});

const record = fc
  .record({ id: byte, oem: fc.option(fc.integer({ min: 0, max: 0xffffff }), { nil: undefined }), authAlgorithms: fc.array(six, { maxLength: 3 }), integrityAlgorithms: fc.array(six, { maxLength: 3 }), confidentialityAlgorithms: fc.array(six, { maxLength: 3 }) })
  .map(({ oem, ...r }) => (oem === undefined ? r : { ...r, oemIana: oem }) as ipmi.CipherSuiteRecord);

const deviceId = fc
  .record({
    deviceId: byte,
    deviceRevision: nibble,
    providesDeviceSdrs: fc.boolean(),
    firmwareMajor: fc.integer({ min: 0, max: 0x7f }),
    updateInProgress: fc.boolean(),
    firmwareMinor: byte,
    ipmiVersion: byte,
    additionalDeviceSupport: byte,
    manufacturerId: fc.integer({ min: 0, max: 0xfffff }),
    productId: u16,
    aux: fc.option(exact(4), { nil: undefined }),
  })
  .map(({ aux, ...d }) => (aux === undefined ? d : { ...d, auxFirmwareRevision: aux }) as ipmi.DeviceId);

const chassis = fc
  .record({ currentPowerState: byte, lastPowerEvent: byte, miscChassisState: byte, buttons: fc.option(byte, { nil: undefined }) })
  .map(({ buttons, ...s }) => (buttons === undefined ? s : { ...s, frontPanelButtons: buttons }) as ipmi.ChassisStatus);

const closeSession = fc.oneof(fc.record({ sessionId: fc.integer({ min: 1, max: 0xffffffff }) }), fc.record({ sessionId: fc.constant(0), sessionHandle: byte }));

interface Case<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode: (v: T) => Uint8Array;
  decode: (b: Uint8Array) => T;
}
const c = <T>(name: string, arb: fc.Arbitrary<T>, encode: (v: T) => Uint8Array, decode: (b: Uint8Array) => T): Case<unknown> =>
  ({ name, arb, encode, decode }) as unknown as Case<unknown>;

const CASES: Case<unknown>[] = [
  c('RMCP datagram', datagram, ipmi.encodeRmcpDatagram, ipmi.decodeRmcpDatagram),
  c('LAN request', lanRequest, ipmi.encodeIpmiLanRequest, ipmi.decodeIpmiLanRequest),
  c('LAN response', lanResponse, ipmi.encodeIpmiLanResponse, ipmi.decodeIpmiLanResponse),
  c('Open Session Request', openRequest, ipmi.encodeOpenSessionRequest, ipmi.decodeOpenSessionRequest),
  c('Open Session Response', openResponse, ipmi.encodeOpenSessionResponse, ipmi.decodeOpenSessionResponse),
  c('RAKP1', rakp1, ipmi.encodeRakp1, ipmi.decodeRakp1),
  c('RAKP2', rakp2, ipmi.encodeRakp2, ipmi.decodeRakp2),
  c('RAKP3', rakp3, ipmi.encodeRakp3, ipmi.decodeRakp3),
  c('RAKP4', rakp4, ipmi.encodeRakp4, ipmi.decodeRakp4),
  c('Channel Auth Caps request', fc.record({ channel: nibble, extendedData: fc.boolean(), requestedPrivilege: nibble }), ipmi.encodeChannelAuthCapabilitiesRequest, ipmi.decodeChannelAuthCapabilitiesRequest),
  c('Channel Auth Caps response', caps, ipmi.encodeChannelAuthCapabilities, ipmi.decodeChannelAuthCapabilities),
  c('Channel Cipher Suites request', fc.record({ channel: nibble, payloadType: six, listBySuite: fc.boolean(), listIndex: six }), ipmi.encodeChannelCipherSuitesRequest, ipmi.decodeChannelCipherSuitesRequest),
  c('Channel Cipher Suites response', fc.record({ channel: nibble, recordData: bytes(0, 16) }), ipmi.encodeChannelCipherSuitesResponse, ipmi.decodeChannelCipherSuitesResponse),
  c('cipher suite records', fc.array(record, { maxLength: 6 }), ipmi.encodeCipherSuiteRecords, ipmi.decodeCipherSuiteRecords),
  c('Get Device ID response', deviceId, ipmi.encodeDeviceId, ipmi.decodeDeviceId),
  c('Get Chassis Status response', chassis, ipmi.encodeChassisStatus, ipmi.decodeChassisStatus),
  c('Set Session Privilege request', nibble, ipmi.encodeSetSessionPrivilegeRequest, ipmi.decodeSetSessionPrivilegeRequest),
  c('Close Session request', closeSession, ipmi.encodeCloseSessionRequest, ipmi.decodeCloseSessionRequest),
];

describe('IPMI codec properties', () => {
  for (const k of CASES) {
    it(`${k.name}: decode(encode(x)) equals x`, () => {
      fc.assert(
        fc.property(k.arb, (x) => {
          expect(k.decode(k.encode(x))).toEqual(x);
        }),
        runs,
      );
    });
    it(`${k.name}: random bytes only ever throw WireError`, () => {
      fc.assert(
        fc.property(bytes(0, 96), (b) => {
          onlyWireErrors(() => k.decode(b));
        }),
        runs,
      );
    });
  }

  it('random bytes after a valid RMCP+ prefix only ever throw WireError', () => {
    fc.assert(
      fc.property(bytes(0, 80), (tail) => {
        onlyWireErrors(() => ipmi.decodeRmcpDatagram(new Uint8Array([0x06, 0x00, 0xff, 0x07, 0x06, ...tail])));
      }),
      runs,
    );
  });
});
