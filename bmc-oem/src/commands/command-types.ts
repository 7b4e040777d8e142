/**
 * The contract between the transports (RMCP+ on the LAN, the VM serial
 * protocol on the system side) and the command handlers. A handler sees only
 * the request data and a context; it returns a completion code and response
 * data and never touches a socket.
 */
import type { PrivilegeLevel } from './privilege.js';

/** Which side of the BMC a request arrived on. */
export type ChannelKind = 'lan' | 'system';

/** What a handler may do to the session its request came in on (LAN only). */
export interface SessionControl {
  readonly id: number;
  /** The one-byte handle Get Session Info names the session by. */
  readonly handle: number;
  readonly userName: string;
  /** The IPMI user id of the session's user. */
  readonly userId: number;
  /** The ceiling negotiated in RAKP: min(requested role, user's privilege). */
  readonly maxPrivilege: PrivilegeLevel;
  /** Raises or lowers the session's working privilege (Set Session Privilege Level). */
  setPrivilege(level: PrivilegeLevel): void;
  /** Closes the session after the current response has been sent. */
  closeAfterResponse(): void;
}

/** What Get Session Info reports about an active LAN session. */
export interface SessionSummary {
  readonly id: number;
  readonly handle: number;
  readonly userId: number;
  readonly privilege: PrivilegeLevel;
  /** "address:port" the session's packets come from. */
  readonly peer: string;
}

export interface CommandContext {
  readonly channel: ChannelKind;
  /**
   * The working privilege of the request. On the system interface this is
   * always Administrator: the host side is trusted as the local console is.
   */
  readonly privilege: PrivilegeLevel;
  /** Present for LAN requests inside a session; absent before a session and on the system side. */
  readonly session?: SessionControl;
  readonly lun: number;
}

export interface CommandResult {
  cc: number;
  data?: Uint8Array;
}

export type CommandHandler = (ctx: CommandContext, data: Uint8Array) => CommandResult | Promise<CommandResult>;

export type ChannelScope = 'lan' | 'system' | 'both';

export interface CommandSpec {
  /** Request NetFn (even). */
  netfn: number;
  cmd: number;
  /**
   * For NetFn 0x2E (OEM/Group): the IANA enterprise number that keys the
   * command. The registry strips the 3 IANA bytes from the request before
   * calling the handler and puts them back at the start of the response
   * data (after the completion code), so handlers see and return only the
   * bytes that follow the IANA.
   */
  iana?: number;
  /** The lowest LAN session privilege that may call it. Ignored on the system side. */
  privilege: PrivilegeLevel;
  channel: ChannelScope;
  /**
   * True for the few commands a console may send before any session exists
   * (Get Channel Authentication Capabilities, Get Channel Cipher Suites, Get
   * Session Challenge). Everything else on the LAN needs an active session.
   */
  preSession?: boolean;
  /** Name used in logs and metrics. */
  name: string;
  handler: CommandHandler;
}
