/**
 * What a link needs from an RMCP+ session: one IPMI request at a time and
 * a way to close. The RMCP+ client in src/rmcp implements it; so can any
 * other transport to a BMC.
 */
export interface BmcSession {
  /** Resolves with the completion code and response data; rejects only when the session is unusable. */
  request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }>;
  close(): Promise<void>;
}

export interface BmcTarget {
  /** The host this BMC belongs to (a connector may pick the transport by it: SOL or OEM queues). */
  hostId?: string;
  host: string;
  port: number;
  user: string;
  password: string;
  privilege: 'operator' | 'administrator';
  cipherSuites: number[];
}

/** Opens a session (RMCP+ handshake included); rejects when the BMC cannot be reached or refuses. */
export type BmcConnector = (target: BmcTarget) => Promise<BmcSession>;
