/**
 * Seed datagrams for fuzzing an RMCP+ server over UDP, every one valid and
 * built with the proto codecs: ASF presence ping, the pre-session commands
 * (Get Channel Authentication Capabilities and Get Channel Cipher Suites in
 * IPMI v1.5 and v2.0 framing, Get Session Challenge), Open Session Requests
 * for suites 17 and 3, a RAKP 1 aimed at a real pending session, a RAKP 3
 * aimed at a real session waiting for it, and authenticated + encrypted
 * session packets of a real session.
 *
 * It also offers "sealed mutations": a mutated IPMI request sealed with a
 * live session's keys, so the server's AuthCode check passes and the bytes
 * reach the LAN message decoder and the command table.
 */
import {
  AppCommand,
  ChassisCommand,
  CURRENT_CHANNEL,
  encodeChannelAuthCapabilitiesRequest,
  encodeChannelCipherSuitesRequest,
  encodeOemRequest,
  encodeOpenSessionRequest,
  encodeRmcpDatagram,
  encodeSetSessionPrivilegeRequest,
  ipmiChecksum,
  NetFn,
  OemCommand,
  PayloadType,
  Privilege,
  STANDARD_CIPHER_SUITES,
} from '@backchannel/proto';
import { type DriverLogin, type DriverSession, lanRequest, preSessionDatagram, type RakpDriver } from '../bench/bmc-oem-rakp-driver.js';
import { type FuzzRandom, mutate } from './harness.js';

export interface CorpusEntry {
  name: string;
  bytes: Uint8Array;
}

/** IPMI requests (LAN messages) a console sends inside a session: the seeds of sealed mutations. */
export function sessionRequests(iana: number): Uint8Array[] {
  const oem = (cmd: number, data: Uint8Array): Uint8Array => lanRequest(NetFn.OEM_GROUP, cmd, data, 7);
  const record = Uint8Array.from({ length: 24 }, (_, i) => i);
  return [
    lanRequest(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0), 1),
    lanRequest(NetFn.APP, AppCommand.GET_SELF_TEST_RESULTS, new Uint8Array(0), 2),
    lanRequest(NetFn.APP, AppCommand.GET_DEVICE_GUID, new Uint8Array(0), 3),
    lanRequest(NetFn.APP, AppCommand.GET_SYSTEM_GUID, new Uint8Array(0), 4),
    lanRequest(NetFn.APP, AppCommand.GET_CHANNEL_INFO, Uint8Array.of(CURRENT_CHANNEL), 5),
    lanRequest(NetFn.APP, AppCommand.SET_SESSION_PRIVILEGE_LEVEL, encodeSetSessionPrivilegeRequest(Privilege.OPERATOR), 6),
    lanRequest(NetFn.APP, AppCommand.GET_CHANNEL_AUTH_CAPABILITIES, encodeChannelAuthCapabilitiesRequest({ channel: CURRENT_CHANNEL, extendedData: true, requestedPrivilege: Privilege.ADMINISTRATOR }), 8),
    lanRequest(NetFn.APP, AppCommand.GET_CHANNEL_CIPHER_SUITES, encodeChannelCipherSuitesRequest({ channel: CURRENT_CHANNEL, payloadType: PayloadType.IPMI, listBySuite: true, listIndex: 0 }), 9),
    lanRequest(NetFn.APP, AppCommand.GET_MESSAGE_FLAGS, new Uint8Array(0), 10),
    lanRequest(NetFn.CHASSIS, ChassisCommand.GET_CHASSIS_STATUS, new Uint8Array(0), 11),
    lanRequest(NetFn.CHASSIS, ChassisCommand.CHASSIS_CONTROL, Uint8Array.of(1), 12),
    oem(OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana, queue: 1 })),
    oem(OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana, queue: 2 })),
    oem(OemCommand.PutRecord, encodeOemRequest({ kind: 'put-record', iana, queue: 1, seq: 1, record })),
    oem(OemCommand.GetRecord, encodeOemRequest({ kind: 'get-record', iana, queue: 2, commitSeq: 0 })),
    oem(OemCommand.ResetQueue, encodeOemRequest({ kind: 'reset-queue', iana, queue: 1 })),
  ];
}

/** Datagrams that need no live session. */
export function staticRmcpCorpus(): CorpusEntry[] {
  const v15 = (cmd: number, data: Uint8Array): Uint8Array =>
    encodeRmcpDatagram({ kind: 'ipmi15', session: { sessionSeq: 0, sessionId: 0, message: lanRequest(NetFn.APP, cmd, data, 1) } });
  const v20 = (cmd: number, data: Uint8Array): Uint8Array => preSessionDatagram(PayloadType.IPMI, lanRequest(NetFn.APP, cmd, data, 2));
  const authCaps = encodeChannelAuthCapabilitiesRequest({ channel: CURRENT_CHANNEL, extendedData: true, requestedPrivilege: Privilege.ADMINISTRATOR });
  const suites = encodeChannelCipherSuitesRequest({ channel: CURRENT_CHANNEL, payloadType: PayloadType.IPMI, listBySuite: true, listIndex: 0 });
  const open = (suite: 3 | 17, consoleId: number): Uint8Array => {
    const algs = STANDARD_CIPHER_SUITES[suite];
    if (algs === undefined) throw new Error(`suite ${suite}`);
    return preSessionDatagram(PayloadType.OPEN_SESSION_REQUEST, encodeOpenSessionRequest({ messageTag: 0x2a, requestedPrivilege: 0, remoteConsoleSessionId: consoleId, ...algs }));
  };
  return [
    { name: 'asf-ping', bytes: encodeRmcpDatagram({ kind: 'asf', sequence: 0x00, message: { kind: 'ping', messageTag: 0x11 } }) },
    { name: 'auth-caps-v15', bytes: v15(AppCommand.GET_CHANNEL_AUTH_CAPABILITIES, authCaps) },
    { name: 'auth-caps-v20', bytes: v20(AppCommand.GET_CHANNEL_AUTH_CAPABILITIES, authCaps) },
    { name: 'cipher-suites-v15', bytes: v15(AppCommand.GET_CHANNEL_CIPHER_SUITES, suites) },
    { name: 'cipher-suites-v20', bytes: v20(AppCommand.GET_CHANNEL_CIPHER_SUITES, suites) },
    { name: 'session-challenge-v15', bytes: v15(AppCommand.GET_SESSION_CHALLENGE, Uint8Array.of(0x02, ...new Uint8Array(16))) },
    { name: 'open-session-17', bytes: open(17, 0x0badcafe) },
    { name: 'open-session-3', bytes: open(3, 0x00c0ffee) },
  ];
}

export interface LiveRmcpCorpus {
  entries: CorpusEntry[];
  /** The active session whose keys seal mutated requests. */
  sealer: DriverSession;
}

/**
 * The static corpus plus datagrams of real sessions: `fuzzLogin` opens a
 * session left waiting for RAKP 1 and one left waiting for RAKP 3 (their
 * RAKP messages go in the corpus; mutated copies count as failed logins of
 * that user, so it must not be a user anything else needs), and
 * `sealerLogin` opens an active session whose sealed requests go in too.
 */
export async function liveRmcpCorpus(driver: RakpDriver, fuzzLogin: DriverLogin, sealerLogin: DriverLogin, iana: number): Promise<LiveRmcpCorpus> {
  const entries = staticRmcpCorpus();
  const waitingForRakp1 = await driver.begin(fuzzLogin);
  entries.push({ name: 'rakp1', bytes: driver.rakp1Datagram(waitingForRakp1) });
  const waitingForRakp3 = await driver.begin(fuzzLogin);
  entries.push({ name: 'rakp3', bytes: driver.rakp3Datagram(waitingForRakp3, await driver.rakp12(waitingForRakp3)) });
  const sealer = await driver.openSession(sealerLogin);
  sessionRequests(iana).forEach((message, i) => entries.push({ name: `sealed-${i}`, bytes: driver.seal(sealer, message) }));
  return { entries, sealer };
}

/** Recomputes both IPMI LAN message checksums, so a mutation gets past them to the fields behind. */
export function fixLanChecksums(message: Uint8Array): Uint8Array {
  if (message.length < 7) return message;
  const out = Uint8Array.from(message);
  out[2] = ipmiChecksum(out, 0, 2);
  out[out.length - 1] = ipmiChecksum(out, 3, out.length - 1);
  return out;
}

/** A mutated session request, half the time with valid checksums, sealed under the session's keys. */
export function sealedMutation(driver: RakpDriver, session: DriverSession, requests: Uint8Array[], rng: FuzzRandom): Uint8Array {
  const base = requests[rng.below(requests.length)] ?? new Uint8Array(0);
  let message = mutate(base, rng);
  if (rng.below(2) === 0) message = fixLanChecksums(message);
  // The seal needs at most 0xFFFF bytes; the daemon drops datagrams over 1024 anyway.
  return driver.seal(session, message.subarray(0, 900));
}
