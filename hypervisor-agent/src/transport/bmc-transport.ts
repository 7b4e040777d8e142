/**
 * The agent's view of its BMC: a request/response pipe for IPMI messages plus an
 * "attention" signal (ATN on the VM serial protocol, the OEM0/message flag on a KCS
 * system interface). Every transport (VM serial, /dev/ipmi0) implements this and the
 * queue client is written only against it, so the channel logic never knows which
 * physical path it runs over.
 */
export interface BmcTransport {
  /**
   * Send one IPMI request (netfn is the request netfn, even) and resolve with the
   * completion code and the response data that follows it. Rejects only on transport
   * failure (link down, timeout, closed) — a non-zero cc is a normal resolution.
   */
  request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }>;
  /**
   * Register a listener called when the BMC signals that something is waiting for us.
   * Returns a function that removes the listener.
   */
  onAttention(listener: () => void): () => void;
  /** Release the link; pending requests reject. Idempotent. */
  close(): Promise<void>;
  /** Human-readable description for logs, e.g. "vm+tcp://127.0.0.1:9002". Never holds secrets. */
  readonly description: string;
}

/**
 * Where the VM serial protocol (PROTOCOL.md §4) reaches bmc-oem, parsed from the
 * link URI (`vm+tcp://127.0.0.1:9002`, `vm+unix:///run/bmc.sock`,
 * `vm+serial:///dev/ttyS1?baud=115200`).
 */
export type VmSerialTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'serial'; path: string; baud: number };

/**
 * What `./vm-serial-transport.ts` exports as `openVmSerialTransport`: connect (or
 * open the tty), resolve once the link is usable. The agent owns reconnecting by
 * opening a new transport when `request` starts rejecting.
 */
export type OpenVmSerialTransport = (target: VmSerialTarget, options?: { timeoutMs?: number }) => Promise<BmcTransport>;
