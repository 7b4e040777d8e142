/**
 * What the RMCP+ server reports about itself. The daemon turns these into
 * Prometheus metrics and log lines; tests record them. Keeping them as an
 * interface keeps the server free of logging and metrics libraries.
 */
import type { Session } from './session-table.js';

/** Why a datagram was dropped without an answer (a bounded set: it is a metric label). */
export type DropReason =
  /** Not a well-formed RMCP / ASF / IPMI datagram. */
  | 'malformed'
  /** Well formed but something this BMC never serves (RMCP ACK, OEM payloads, SOL, v1.5 session). */
  | 'unsupported'
  /** An IPMI message with a bad checksum. */
  | 'checksum'
  /** A session id we do not know (or no longer know). */
  | 'unknown-session'
  /** A session id whose handshake has not finished. */
  | 'inactive-session'
  /** Failed integrity check, or missing integrity/encryption a session requires. */
  | 'integrity'
  /** A session sequence number seen before (replay or duplicate). */
  | 'replay'
  /** A session sequence number outside the window. */
  | 'sequence-window'
  /** A handshake message for the wrong state, or a message type that is not a request. */
  | 'protocol'
  /** An exception inside the server (a bug): logged with its stack. */
  | 'internal';

export type SessionEndReason =
  | 'closed'
  | 'setup-timeout'
  | 'idle-timeout'
  | 'closed-by-admin'
  | 'shutdown'
  /** A cold reset of the BMC dropped it. */
  | 'reset'
  | 'handshake-failed'
  /** A handshake pushed out by newer ones when `sessions.maxPending` was reached. */
  | 'evicted';

export interface RmcpEvents {
  datagramDropped(reason: DropReason, peer: string, detail: string): void;
  /** A session finished RAKP and is active. */
  sessionActivated(session: Session): void;
  sessionEnded(session: Session, why: SessionEndReason): void;
  /** A failed authentication attempt (unknown name, bad RAKP 3 code, abandoned after RAKP 2, refused role). */
  authFailed(userName: string, why: string, peer: string): void;
  /** A source's failures for a user name went past the free ones: from now on it waits (audit: SEL record). */
  loginThrottleStarted(userName: string, source: string, failures: number, delayMs: number): void;
  /** RAKP 1 refused because its source must still wait after failed logins for that name. */
  loginThrottled(userName: string, peer: string, retryAfterMs: number): void;
  /** A session was refused because a bound was reached (whole table, one source, one user). */
  sessionLimitReached(bound: 'table' | 'source' | 'user', peer: string, userName?: string): void;
  /** A request was answered (name is undefined when no command matched). */
  commandAnswered(name: string | undefined, netfn: number, cmd: number, cc: number, presession: boolean): void;
  /** A handler threw; the request got cc 0xFF. */
  handlerFault(name: string, err: unknown): void;
}

export const NO_EVENTS: RmcpEvents = {
  datagramDropped: () => undefined,
  sessionActivated: () => undefined,
  sessionEnded: () => undefined,
  authFailed: () => undefined,
  loginThrottleStarted: () => undefined,
  loginThrottled: () => undefined,
  sessionLimitReached: () => undefined,
  commandAnswered: () => undefined,
  handlerFault: () => undefined,
};
