/**
 * What a simulated party keeps and what it plugs into (link-party.ts): the durable store (the
 * only thing a crash keeps), the transport to the BMC, the tuning, the observer that counts
 * verdicts and alerts, and the application on top of the channel.
 */
import type { Ack, backchannel, Body, PeerState, ReplayWindowState } from '@backchannel/proto';
import type { HopCursor } from './link-core.js';

export interface OutboxEntry {
  body: Uint8Array;
  hello: boolean;
}

/** What survives a crash. Plain data; written only through `Party.commit`. */
export interface PartyStore<A> {
  nextId: number;
  outbox: Map<number, OutboxEntry>;
  window: ReplayWindowState | undefined;
  peer: PeerState | undefined;
  /** Records of a message half reassembled when its first records were committed (the host keeps them). */
  held: Uint8Array[];
  cursor: HopCursor;
  /** The host's digests of delivered envelopes (sha256 hex → when), kept 10 min: a byte-identical copy is a replay. */
  seen: Map<string, number>;
  app: A;
}

export function emptyStore<A>(app: A): PartyStore<A> {
  return { nextId: 1, outbox: new Map(), window: undefined, peer: undefined, held: [], cursor: { putEpoch: 0, getEpoch: 0, commitSeq: 0 }, seen: new Map(), app };
}

/** The transport a party reaches the BMC through (the simulated LAN or system interface). */
export interface Transport {
  connect(done: (session: { id: string; boot: number } | undefined) => void): void;
  request(session: { id: string; boot: number }, packetSeq: number, cmd: number, data: Uint8Array, answer: (r: { cc: number; data: Uint8Array }) => void): void;
}

export interface PartyTuning {
  requestTimeoutMs: number;
  retries: number;
  retransmit: { initialTimeoutMs: number; maxTimeoutMs: number };
  ackDelayMs: number;
  tickMs: number;
  maxRecord: number;
}

/** Alert-raising and other notable verdicts, counted by the world. */
export interface Observer {
  count(what: string, n?: number): void;
  alert(kind: string, detail: string): void;
}

/** What the application on top does with a delivered body: store mutations and messages to send. */
export interface AppHandler<A> {
  deliver(body: backchannel.v1.Body, app: A, enqueue: (body: Body) => void, nowMs: number): void;
}

export const MALFORMED_CODES = new Set(['ERR_FRAGMENT_MALFORMED', 'ERR_FRAGMENT_BAD_VERSION', 'ERR_FRAGMENT_TOO_LARGE', 'ERR_ENVELOPE_MALFORMED', 'ERR_ENVELOPE_BAD_VERSION']);
export const DECRYPTION_CODES = new Set(['ERR_ENVELOPE_TAMPERED', 'ERR_ENVELOPE_WRONG_HOST', 'ERR_ENVELOPE_WRONG_DIRECTION']);

export function isAcked(ack: Ack, id: number): boolean {
  return id <= Number(ack.cumulativeId ?? 0) || (ack.selectiveIds ?? []).some((x) => Number(x) === id);
}

export function copyWindow(w: ReplayWindowState): ReplayWindowState {
  return { ...w, bitmap: Uint8Array.from(w.bitmap) };
}

export function copyPeer(p: PeerState): PeerState {
  return { ...p, incarnations: [...p.incarnations] };
}

export function incarnation(randomBytes: (n: number) => Uint8Array): number {
  const b = randomBytes(6);
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v || 1;
}
