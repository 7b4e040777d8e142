/**
 * A remote console that talks to an RmcpServer in process (no sockets),
 * built from the pure codecs in @backchannel/proto. It checks the server's
 * RAKP 2 and RAKP 4 like ipmitool does, so a test that completes a
 * handshake has verified the server's side of the key exchange.
 */
import { randomBytes as nodeRandom } from 'node:crypto';
import {
  cipherSuiteAlgorithms,
  constantTimeEqual,
  decodeIpmiLanResponse,
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  decodeRmcpDatagram,
  deriveSessionKeys,
  encodeIpmiLanRequest,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
  encodeRmcpDatagram,
  openIpmi2Packet,
  passwordKey,
  PayloadType,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  sealIpmi2Packet,
  type IpmiLanResponse,
  type RakpContext,
  type SessionCrypto,
} from '@backchannel/proto';
import type { RmcpServer } from '../../../src/rmcp/rmcp-server.js';

const rnd = (n: number): Uint8Array => new Uint8Array(nodeRandom(n));
export const PEER = '127.0.0.1:40000';

function sessionless(payloadType: number, payload: Uint8Array): Uint8Array {
  return encodeRmcpDatagram({
    kind: 'ipmi20',
    session: { payloadType, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload, trailer: new Uint8Array(0) },
  });
}

export async function exchange(server: RmcpServer, datagram: Uint8Array, peer = PEER): Promise<{ payloadType: number; payload: Uint8Array }> {
  const reply = await server.handleDatagram(datagram, peer);
  if (reply === undefined) throw new Error('no reply');
  const d = decodeRmcpDatagram(reply);
  if (d.kind !== 'ipmi20') throw new Error(`unexpected ${d.kind} reply`);
  return { payloadType: d.session.payloadType, payload: d.session.payload };
}

export interface ConsoleOptions {
  suite: number;
  user: string;
  password: string;
  /** RAKP 1 role byte (privilege | 0x10 name-only lookup). */
  role: number;
  /** Where the console's datagrams come from ("address:port"); 127.0.0.1:40000 by default. */
  peer?: string;
  /** Leave after RAKP 2 without sending RAKP 3 (what ipmitool does on a wrong password). */
  abandonAfterRakp2?: boolean;
}

export type HandshakeResult =
  | { ok: true; session: ConsoleSession }
  | { ok: false; stage: 'open' | 'rakp2' | 'rakp2-hmac' | 'rakp4' | 'abandoned'; status: number };

export class ConsoleSession {
  seq = 0;
  rqSeq = 0;

  constructor(
    readonly server: RmcpServer,
    readonly bmcId: number,
    readonly consoleId: number,
    readonly crypto: SessionCrypto,
    readonly peer: string = PEER,
  ) {}

  /** Seals one request (advancing the session sequence) without sending it. */
  seal(netFn: number, cmd: number, data: Uint8Array = new Uint8Array(0), seq = ++this.seq): Uint8Array {
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const msg = encodeIpmiLanRequest({ rsAddr: 0x20, netFn, rsLun: 0, rqAddr: 0x81, rqSeq: this.rqSeq, rqLun: 0, cmd, data });
    return sealIpmi2Packet(this.crypto, { sessionId: this.bmcId, sessionSeq: seq, payloadType: PayloadType.IPMI, payload: msg }, rnd);
  }

  /** Sends a sealed datagram; undefined when the server dropped it. */
  async send(datagram: Uint8Array): Promise<IpmiLanResponse | undefined> {
    const reply = await this.server.handleDatagram(datagram, this.peer);
    if (reply === undefined) return undefined;
    const m = openIpmi2Packet(this.crypto, reply);
    if (m.sessionId !== this.consoleId) throw new Error('reply for another session');
    return decodeIpmiLanResponse(m.payload);
  }

  async request(netFn: number, cmd: number, data?: Uint8Array): Promise<IpmiLanResponse | undefined> {
    return this.send(this.seal(netFn, cmd, data));
  }
}

export async function openConsoleSession(server: RmcpServer, o: ConsoleOptions): Promise<HandshakeResult> {
  const algs = cipherSuiteAlgorithms(o.suite);
  if (!algs) throw new Error(`unknown suite ${o.suite}`);
  const consoleId = 0xa0a2a3a4;
  const peer = o.peer ?? PEER;
  const open = await exchange(
    server,
    sessionless(
      PayloadType.OPEN_SESSION_REQUEST,
      encodeOpenSessionRequest({ messageTag: 1, requestedPrivilege: 0, remoteConsoleSessionId: consoleId, ...algs }),
    ),
    peer,
  );
  const os = decodeOpenSessionResponse(open.payload);
  if (os.status !== 0 || !('managedSystemSessionId' in os)) return { ok: false, stage: 'open', status: os.status };
  const bmcId = os.managedSystemSessionId;
  const consoleRandom = rnd(16);
  const userName = Buffer.from(o.user, 'utf8');
  const r2 = await exchange(server, sessionless(PayloadType.RAKP1, encodeRakp1({ messageTag: 2, managedSystemSessionId: bmcId, remoteConsoleRandom: consoleRandom, role: o.role, userName })), peer);
  const rakp2 = decodeRakp2(r2.payload);
  if (rakp2.status !== 0 || !('managedSystemRandom' in rakp2)) return { ok: false, stage: 'rakp2', status: rakp2.status };
  const ctx: RakpContext = {
    authAlgorithm: algs.authAlgorithm,
    remoteConsoleSessionId: consoleId,
    managedSystemSessionId: bmcId,
    remoteConsoleRandom: consoleRandom,
    managedSystemRandom: rakp2.managedSystemRandom,
    managedSystemGuid: rakp2.managedSystemGuid,
    role: o.role,
    userName,
  };
  const kuid = passwordKey(Buffer.from(o.password, 'utf8'));
  const hmacOk = constantTimeEqual(rakp2AuthCode(ctx, kuid), rakp2.keyExchangeAuthCode);
  if (o.abandonAfterRakp2 === true) return { ok: false, stage: 'abandoned', status: hmacOk ? 0 : 0x0f };
  // Like ipmitool, a console with the wrong password notices here; it still
  // sends RAKP 3 (so the BMC sees the failure) when `hmacOk` is false.
  const r4 = await exchange(server, sessionless(PayloadType.RAKP3, encodeRakp3({ messageTag: 3, status: 0, managedSystemSessionId: bmcId, keyExchangeAuthCode: rakp3AuthCode(ctx, kuid) })), peer);
  const rakp4 = decodeRakp4(r4.payload);
  if (!hmacOk) return { ok: false, stage: 'rakp2-hmac', status: rakp4.status };
  if (rakp4.status !== 0) return { ok: false, stage: 'rakp4', status: rakp4.status };
  const keys = deriveSessionKeys(ctx, kuid);
  if (!constantTimeEqual(rakp4Icv(ctx, keys.sik), rakp4.integrityCheckValue)) throw new Error('RAKP 4 ICV does not verify');
  const crypto: SessionCrypto = { integrityAlgorithm: algs.integrityAlgorithm, confidentialityAlgorithm: algs.confidentialityAlgorithm, k1: keys.k1, k2: keys.k2 };
  return { ok: true, session: new ConsoleSession(server, bmcId, consoleId, crypto, peer) };
}
