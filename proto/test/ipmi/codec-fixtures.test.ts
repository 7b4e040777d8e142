// Fixture tests (parse, generate, round trip, error table) for every IPMI codec.
// Bytes marked "captured" come from captured-exchanges.ts (ipmitool ↔ ipmi_sim).
import {
  type ChannelAuthCapabilities,
  type ChassisStatus,
  type CipherSuiteRecord,
  decodeChannelAuthCapabilities,
  decodeChannelAuthCapabilitiesRequest,
  decodeChannelCipherSuitesRequest,
  decodeChannelCipherSuitesResponse,
  decodeChassisStatus,
  decodeCipherSuiteRecords,
  decodeCloseSessionRequest,
  decodeDeviceId,
  decodeIpmiLanRequest,
  decodeIpmiLanResponse,
  decodeOpenSessionRequest,
  decodeOpenSessionResponse,
  decodeRakp1,
  decodeRakp2,
  decodeRakp3,
  decodeRakp4,
  decodeRmcpDatagram,
  decodeSetSessionPrivilegeRequest,
  type DeviceId,
  encodeChannelAuthCapabilities,
  encodeChannelAuthCapabilitiesRequest,
  encodeChannelCipherSuitesRequest,
  encodeChannelCipherSuitesResponse,
  encodeChassisStatus,
  encodeCipherSuiteRecords,
  encodeCloseSessionRequest,
  encodeDeviceId,
  encodeIpmiLanRequest,
  encodeIpmiLanResponse,
  encodeOpenSessionRequest,
  encodeOpenSessionResponse,
  encodeRakp1,
  encodeRakp2,
  encodeRakp3,
  encodeRakp4,
  encodeRmcpDatagram,
  encodeSetSessionPrivilegeRequest,
  fromHex,
  type RmcpDatagram,
  utf8,
} from '../../src/index.js';
import { codecFixtureTests } from '../helpers/codec-fixture.js';

const h = fromHex;

codecFixtureTests<RmcpDatagram>(
  'RMCP datagram (RMCP header + ASF / IPMI 1.5 / IPMI 2.0 session)',
  { encode: encodeRmcpDatagram, decode: decodeRmcpDatagram },
  [
    {
      name: 'ASF presence ping',
      // 06 00 seq=00 class=06 (ASF) | IANA 000011BE, type 80 ping, tag 07, reserved, length 0
      bytes: h('06 00 00 06  00 00 11 be 80 07 00 00'),
      value: { kind: 'asf', sequence: 0, message: { kind: 'ping', messageTag: 7 } },
    },
    {
      name: 'ASF presence pong',
      // ... type 40 pong, tag 07, length 16 | IANA 000011BE, OEM 0, entities 81 (IPMI, ASF 1.0), interactions 00, reserved 6
      bytes: h('06 00 00 06  00 00 11 be 40 07 00 10  00 00 11 be 00 00 00 00 81 00 00 00 00 00 00 00'),
      value: { kind: 'asf', sequence: 0, message: { kind: 'pong', messageTag: 7, oemIana: 4542, oemDefined: 0, supportedEntities: 0x81, supportedInteractions: 0 } },
    },
    {
      name: 'captured pre-session Get Channel Auth Caps (IPMI 1.5 framing)',
      // RMCP | auth none, seq 0, id 0, length 9 | LAN request
      bytes: h('0600ff07 00 00000000 00000000 09 2018c88100388e04b5'),
      value: { kind: 'ipmi15', session: { sessionSeq: 0, sessionId: 0, message: h('2018c88100388e04b5') } },
    },
    {
      name: 'captured Open Session Request (IPMI 2.0, session id 0)',
      // RMCP | 06 RMCP+, 10 payload type, session id 0, seq 0, length 0x20 | payload
      bytes: h('0600ff07 06 10 00000000 00000000 2000 0000 0000 a4a3a2a0 00000008 01000000 01000008 01000000 02000008 01000000'),
      value: {
        kind: 'ipmi20',
        session: {
          payloadType: 0x10,
          encrypted: false,
          authenticated: false,
          sessionId: 0,
          sessionSeq: 0,
          payload: h('0000 0000 a4a3a2a0 00000008 01000000 01000008 01000000 02000008 01000000'),
          trailer: new Uint8Array(0),
        },
      },
    },
    {
      name: 'authenticated and encrypted IPMI 2.0 packet (trailer kept raw)',
      // c0 = encrypted + authenticated, type 0; session 0x182, seq 3, length 2 | payload | trailer
      bytes: h('0600ff07 06 c0 82010000 03000000 0200 aabb ffff 02 07 0102030405060708090a0b0c'),
      value: {
        kind: 'ipmi20',
        session: { payloadType: 0, encrypted: true, authenticated: true, sessionId: 0x182, sessionSeq: 3, payload: h('aabb'), trailer: h('ffff 02 07 0102030405060708090a0b0c') },
      },
    },
    {
      name: 'OEM explicit payload (IANA and payload id in the header)',
      bytes: h('0600ff07 06 02 d97e0000 3412 01000000 00000000 0100 ee'),
      value: {
        kind: 'ipmi20',
        session: { payloadType: 2, encrypted: false, authenticated: false, oem: { iana: 32473, payloadId: 0x1234 }, sessionId: 1, sessionSeq: 0, payload: h('ee'), trailer: new Uint8Array(0) },
      },
    },
  ],
  [
    { name: 'an empty datagram', bytes: h(''), code: 'ERR_TRUNCATED' },
    { name: 'RMCP version 0x07', bytes: h('0700ff07 00 00000000 00000000 00'), code: 'ERR_BAD_FIELD' },
    { name: 'an RMCP ACK', bytes: h('0600ff87'), code: 'ERR_IPMI_UNSUPPORTED' },
    { name: 'an OEM-class RMCP message', bytes: h('0600ff08 00'), code: 'ERR_IPMI_UNSUPPORTED' },
    { name: 'IPMI with RMCP sequence 0x00', bytes: h('06000007 00 00000000 00000000 00'), code: 'ERR_BAD_FIELD' },
    { name: 'an IPMI 1.5 MD5 session', bytes: h('0600ff07 02 01000000 01000000'), code: 'ERR_IPMI_UNSUPPORTED' },
    { name: 'IPMI 1.5 message shorter than its length', bytes: h('0600ff07 00 00000000 00000000 09 2018c8'), code: 'ERR_TRUNCATED' },
    { name: 'IPMI 2.0 header cut short', bytes: h('0600ff07 06 10 000000'), code: 'ERR_TRUNCATED' },
    { name: 'IPMI 2.0 payload shorter than its length', bytes: h('0600ff07 06 10 00000000 00000000 2000 00'), code: 'ERR_TRUNCATED' },
    { name: 'bytes after an unauthenticated payload', bytes: h('0600ff07 06 10 00000000 00000000 0100 00 ff'), code: 'ERR_TRAILING_BYTES' },
    { name: 'ASF with a foreign IANA', bytes: h('06 00 00 06  00 00 11 bf 80 07 00 00'), code: 'ERR_BAD_FIELD' },
    { name: 'ASF message type 0x81', bytes: h('06 00 00 06  00 00 11 be 81 07 00 00'), code: 'ERR_IPMI_UNSUPPORTED' },
  ],
);

codecFixtureTests(
  'IPMI LAN request',
  { encode: encodeIpmiLanRequest, decode: decodeIpmiLanRequest },
  [
    {
      name: 'captured Get Channel Auth Caps request',
      // rsAddr 20, netFn 06<<2|0, chk1 c8, rqAddr 81, rqSeq 0, cmd 38, data 8e 04, chk2 b5
      bytes: h('20 18 c8 81 00 38 8e 04 b5'),
      value: { rsAddr: 0x20, netFn: 0x06, rsLun: 0, rqAddr: 0x81, rqSeq: 0, rqLun: 0, cmd: 0x38, data: h('8e04') },
    },
    {
      name: 'OEM Get Queue Info with rqSeq 63 and LUN 2',
      bytes: h('20 ba 26 81 fe 00 d9 7e 00 01 29'),
      value: { rsAddr: 0x20, netFn: 0x2e, rsLun: 2, rqAddr: 0x81, rqSeq: 63, rqLun: 2, cmd: 0x00, data: h('d97e0001') },
    },
  ],
  [
    { name: 'six bytes', bytes: h('20 18 c8 81 00 38'), code: 'ERR_TRUNCATED' },
    { name: 'a bad header checksum', bytes: h('20 18 c9 81 00 38 8e 04 b5'), code: 'ERR_IPMI_CHECKSUM' },
    { name: 'a bad data checksum', bytes: h('20 18 c8 81 00 38 8e 04 b6'), code: 'ERR_IPMI_CHECKSUM' },
  ],
);

codecFixtureTests(
  'IPMI LAN response',
  { encode: encodeIpmiLanResponse, decode: decodeIpmiLanResponse },
  [
    {
      name: 'captured Get Channel Auth Caps response',
      // rqAddr 81, netFn 07<<2, chk1 63, rsAddr 20, rqSeq 0, cmd 38, cc 00, 8 data bytes, chk2 07
      bytes: h('81 1c 63 20 00 38 00 01 97 06 03 00 00 00 00 07'),
      value: { rqAddr: 0x81, netFn: 0x07, rqLun: 0, rsAddr: 0x20, rqSeq: 0, rsLun: 0, cmd: 0x38, cc: 0, data: h('0197060300000000') },
    },
  ],
  [
    { name: 'seven bytes', bytes: h('81 1c 63 20 00 38 a8'), code: 'ERR_TRUNCATED' },
    { name: 'a bad data checksum', bytes: h('81 1c 63 20 00 38 00 01 97 06 03 00 00 00 00 08'), code: 'ERR_IPMI_CHECKSUM' },
  ],
);

codecFixtureTests(
  'Open Session Request',
  { encode: encodeOpenSessionRequest, decode: decodeOpenSessionRequest },
  [
    {
      name: 'captured ipmitool -C 3 request',
      // tag 0, privilege 0 (highest), reserved, console session id a0a2a3a4, auth/integrity/conf payloads (alg 1 each)
      bytes: h('00 00 0000 a4a3a2a0 00000008 01000000 01000008 01000000 02000008 01000000'),
      value: { messageTag: 0, requestedPrivilege: 0, remoteConsoleSessionId: 0xa0a2a3a4, authAlgorithm: 1, integrityAlgorithm: 1, confidentialityAlgorithm: 1 },
    },
  ],
  [
    { name: 'a cut request', bytes: h('00 00 0000 a4a3a2a0 00000008'), code: 'ERR_TRUNCATED' },
    { name: 'a request with a byte too many', bytes: h('00 00 0000 a4a3a2a0 00000008 01000000 01000008 01000000 02000008 01000000 00'), code: 'ERR_TRAILING_BYTES' },
    { name: 'integrity payload typed as auth', bytes: h('00 00 0000 a4a3a2a0 00000008 01000000 00000008 01000000 02000008 01000000'), code: 'ERR_BAD_FIELD' },
    { name: 'an algorithm payload length of 0', bytes: h('00 00 0000 a4a3a2a0 00000000 01000000 01000008 01000000 02000008 01000000'), code: 'ERR_BAD_FIELD' },
  ],
);

codecFixtureTests(
  'Open Session Response',
  { encode: encodeOpenSessionResponse, decode: decodeOpenSessionResponse },
  [
    {
      name: 'captured ipmi_sim response',
      // tag 0, status 0, max priv 0, reserved, console id a0a2a3a4, BMC id 00000182, algorithms 1/1/1
      bytes: h('00 00 00 00 a4a3a2a0 82010000 00000008 01000000 01000008 01000000 02000008 01000000'),
      value: {
        messageTag: 0,
        status: 0,
        maximumPrivilege: 0,
        remoteConsoleSessionId: 0xa0a2a3a4,
        managedSystemSessionId: 0x182,
        authAlgorithm: 1,
        integrityAlgorithm: 1,
        confidentialityAlgorithm: 1,
      },
    },
    {
      name: 'error: no cipher suite match (0x11)',
      bytes: h('05 11 00 00 a4a3a2a0'),
      value: { messageTag: 5, status: 0x11, remoteConsoleSessionId: 0xa0a2a3a4 },
    },
  ],
  [
    { name: 'one byte', bytes: h('00'), code: 'ERR_TRUNCATED' },
    { name: 'a cut success response', bytes: h('00 00 00 00 a4a3a2a0 82010000'), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests(
  'RAKP message 1',
  { encode: encodeRakp1, decode: decodeRakp1 },
  [
    {
      name: 'captured ipmitool RAKP1',
      // tag, reserved[3], BMC session id 0x182, Rm[16], role 14 (admin | name-only), reserved[2], name length 5, "admin"
      bytes: h('00 000000 82010000 d6e5018f050b2520af0bc12ae063581c 14 0000 05 61646d696e'),
      value: { messageTag: 0, managedSystemSessionId: 0x182, remoteConsoleRandom: h('d6e5018f050b2520af0bc12ae063581c'), role: 0x14, userName: utf8('admin') },
    },
  ],
  [
    { name: 'no user name length', bytes: h('00 000000 82010000 d6e5018f050b2520af0bc12ae063581c 14 0000'), code: 'ERR_TRUNCATED' },
    { name: 'a name length of 17', bytes: h(`00 000000 82010000 d6e5018f050b2520af0bc12ae063581c 14 0000 11 ${'61'.repeat(17)}`), code: 'ERR_BAD_FIELD' },
    { name: 'a name shorter than its length', bytes: h('00 000000 82010000 d6e5018f050b2520af0bc12ae063581c 14 0000 05 6164'), code: 'ERR_TRUNCATED' },
    { name: 'bytes after the name', bytes: h('00 000000 82010000 d6e5018f050b2520af0bc12ae063581c 14 0000 05 61646d696e 00'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests(
  'RAKP message 2',
  { encode: encodeRakp2, decode: decodeRakp2 },
  [
    {
      name: 'captured ipmi_sim RAKP2',
      // tag, status 0, reserved, console id, Rc[16], GUID[16], HMAC-SHA1 auth code[20]
      bytes: h('00 00 0000 a4a3a2a0 5fd0760be8109adab67ddcb02469b7b3 a123456789abcdefa123456789abcdef 6c1a4104d20f32f730b1f7fbd88438d7bff7b2ca'),
      value: {
        messageTag: 0,
        status: 0,
        remoteConsoleSessionId: 0xa0a2a3a4,
        managedSystemRandom: h('5fd0760be8109adab67ddcb02469b7b3'),
        managedSystemGuid: h('a123456789abcdefa123456789abcdef'),
        keyExchangeAuthCode: h('6c1a4104d20f32f730b1f7fbd88438d7bff7b2ca'),
      },
    },
    { name: 'error: unauthorized name (0x0d)', bytes: h('00 0d 0000 a4a3a2a0'), value: { messageTag: 0, status: 0x0d, remoteConsoleSessionId: 0xa0a2a3a4 } },
  ],
  [
    { name: 'one byte', bytes: h('00'), code: 'ERR_TRUNCATED' },
    { name: 'a success without GUID', bytes: h('00 00 0000 a4a3a2a0 5fd0760be8109adab67ddcb02469b7b3'), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests(
  'RAKP message 3',
  { encode: encodeRakp3, decode: decodeRakp3 },
  [
    {
      name: 'captured ipmitool RAKP3',
      bytes: h('00 00 0000 82010000 60b9033331bb4dfdb303163c1ca1dc82fad85e41'),
      value: { messageTag: 0, status: 0, managedSystemSessionId: 0x182, keyExchangeAuthCode: h('60b9033331bb4dfdb303163c1ca1dc82fad85e41') },
    },
  ],
  [{ name: 'seven bytes', bytes: h('00 00 0000 820100'), code: 'ERR_TRUNCATED' }],
);

codecFixtureTests(
  'RAKP message 4',
  { encode: encodeRakp4, decode: decodeRakp4 },
  [
    {
      name: 'captured ipmi_sim RAKP4',
      bytes: h('00 00 0000 a4a3a2a0 0cf13605b729b3dfca7e4401'),
      value: { messageTag: 0, status: 0, remoteConsoleSessionId: 0xa0a2a3a4, integrityCheckValue: h('0cf13605b729b3dfca7e4401') },
    },
  ],
  [{ name: 'four bytes', bytes: h('00 00 0000'), code: 'ERR_TRUNCATED' }],
);

codecFixtureTests(
  'Get Channel Auth Capabilities request',
  { encode: encodeChannelAuthCapabilitiesRequest, decode: decodeChannelAuthCapabilitiesRequest },
  [{ name: 'captured ipmitool request', bytes: h('8e 04'), value: { channel: 0x0e, extendedData: true, requestedPrivilege: 4 } }],
  [
    { name: 'one byte', bytes: h('8e'), code: 'ERR_TRUNCATED' },
    { name: 'three bytes', bytes: h('8e 04 00'), code: 'ERR_TRAILING_BYTES' },
  ],
);

const simCaps: ChannelAuthCapabilities = {
  channel: 1,
  extendedCapabilities: true,
  authTypes: 0x17,
  kgNonZero: false,
  perMessageAuthDisabled: false,
  userLevelAuthDisabled: false,
  nonNullUserNames: true,
  nullUserNames: true,
  anonymousLogin: false,
  supportsIpmi20: true,
  supportsIpmi15: true,
  oemIana: 0,
  oemAux: 0,
};
codecFixtureTests(
  'Get Channel Auth Capabilities response',
  { encode: encodeChannelAuthCapabilities, decode: decodeChannelAuthCapabilities },
  [{ name: 'captured ipmi_sim response', bytes: h('01 97 06 03 000000 00'), value: simCaps }],
  [
    // Shorter or longer answers are tolerated (test/ipmi/deviations.test.ts); only the first 4 bytes are required.
    { name: 'three bytes', bytes: h('01 97 06'), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests(
  'Get Channel Cipher Suites request',
  { encode: encodeChannelCipherSuitesRequest, decode: decodeChannelCipherSuitesRequest },
  [{ name: 'this channel, IPMI payload, by suite, index 2', bytes: h('0e 00 82'), value: { channel: 0x0e, payloadType: 0, listBySuite: true, listIndex: 2 } }],
  [
    { name: 'two bytes', bytes: h('0e 00'), code: 'ERR_TRUNCATED' },
    { name: 'four bytes', bytes: h('0e 00 82 00'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests(
  'Get Channel Cipher Suites response',
  { encode: encodeChannelCipherSuitesResponse, decode: decodeChannelCipherSuitesResponse },
  [
    { name: 'records of suites 3 and 17', bytes: h('01 c0 03 01 41 81 c0 11 03 44 81'), value: { channel: 1, recordData: h('c0 03 01 41 81 c0 11 03 44 81') } },
    { name: 'an empty slice past the end', bytes: h('01'), value: { channel: 1, recordData: new Uint8Array(0) } },
  ],
  [
    // More than 16 record bytes is tolerated (the first 16 kept; test/ipmi/deviations.test.ts).
    { name: 'no bytes', bytes: h(''), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests<CipherSuiteRecord[]>(
  'cipher suite records',
  { encode: encodeCipherSuiteRecords, decode: decodeCipherSuiteRecords },
  [
    {
      name: 'suites 3 and 17',
      // C0 id 03: auth 01 (SHA1), integrity 41 (SHA1-96), conf 81 (AES); C0 id 11: 03 (SHA256), 44 (SHA256-128), 81
      bytes: h('c0 03 01 41 81  c0 11 03 44 81'),
      value: [
        { id: 3, authAlgorithms: [1], integrityAlgorithms: [1], confidentialityAlgorithms: [1] },
        { id: 17, authAlgorithms: [3], integrityAlgorithms: [4], confidentialityAlgorithms: [1] },
      ],
    },
    {
      name: 'an OEM record with two integrity algorithms',
      bytes: h('c1 80 d97e00 01 41 44 80'),
      value: [{ id: 0x80, oemIana: 32473, authAlgorithms: [1], integrityAlgorithms: [1, 4], confidentialityAlgorithms: [0] }],
    },
  ],
  [
    { name: 'a record not starting with C0/C1', bytes: h('03 01 41 81'), code: 'ERR_BAD_FIELD' },
    { name: 'a record start without id', bytes: h('c0'), code: 'ERR_TRUNCATED' },
    { name: 'a cut OEM IANA', bytes: h('c1 80 d9'), code: 'ERR_TRUNCATED' },
    { name: 'integrity before authentication', bytes: h('c0 03 41 01 81'), code: 'ERR_BAD_FIELD' },
  ],
);

const simDeviceId: DeviceId = {
  deviceId: 0,
  deviceRevision: 3,
  providesDeviceSdrs: false,
  firmwareMajor: 9,
  updateInProgress: false,
  firmwareMinor: 0x08,
  ipmiVersion: 0x02,
  additionalDeviceSupport: 0x9f,
  manufacturerId: 0x1291,
  productId: 0x0f02,
  auxFirmwareRevision: h('00000000'),
};
codecFixtureTests(
  'Get Device ID response',
  { encode: encodeDeviceId, decode: decodeDeviceId },
  [
    { name: 'captured ipmi_sim answer to raw 0x06 0x01', bytes: h('00 03 09 08 02 9f 911200 020f 00000000'), value: simDeviceId },
    { name: 'without aux revision', bytes: h('20 81 01 23 02 bf d97e00 0100'), value: { deviceId: 0x20, deviceRevision: 1, providesDeviceSdrs: true, firmwareMajor: 1, updateInProgress: false, firmwareMinor: 0x23, ipmiVersion: 2, additionalDeviceSupport: 0xbf, manufacturerId: 32473, productId: 1 } },
  ],
  [
    // 6 to 14 and more than 15 bytes are tolerated (test/ipmi/deviations.test.ts).
    { name: 'five bytes', bytes: h('00 03 09 08 02'), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests<ChassisStatus>(
  'Get Chassis Status response',
  { encode: encodeChassisStatus, decode: decodeChassisStatus },
  [
    { name: 'power off, policy always-off', bytes: h('00 00 00'), value: { currentPowerState: 0, lastPowerEvent: 0, miscChassisState: 0 } },
    { name: 'power on, policy previous, with buttons', bytes: h('21 10 40 00'), value: { currentPowerState: 0x21, lastPowerEvent: 0x10, miscChassisState: 0x40, frontPanelButtons: 0 } },
  ],
  [
    // 1-2 and 5+ bytes are tolerated (test/ipmi/deviations.test.ts).
    { name: 'no bytes', bytes: h(''), code: 'ERR_TRUNCATED' },
  ],
);

codecFixtureTests(
  'Set Session Privilege Level request',
  { encode: encodeSetSessionPrivilegeRequest, decode: decodeSetSessionPrivilegeRequest },
  [{ name: 'administrator', bytes: h('04'), value: 4 }],
  [
    { name: 'no bytes', bytes: h(''), code: 'ERR_TRUNCATED' },
    { name: 'two bytes', bytes: h('04 00'), code: 'ERR_TRAILING_BYTES' },
  ],
);

codecFixtureTests(
  'Close Session request',
  { encode: encodeCloseSessionRequest, decode: decodeCloseSessionRequest },
  [
    { name: 'by session id', bytes: h('82010000'), value: { sessionId: 0x182 } },
    { name: 'by handle', bytes: h('00000000 03'), value: { sessionId: 0, sessionHandle: 3 } },
  ],
  [
    { name: 'three bytes', bytes: h('820100'), code: 'ERR_TRUNCATED' },
    { name: 'a handle with a non-zero id', bytes: h('82010000 03'), code: 'ERR_TRAILING_BYTES' },
  ],
);
