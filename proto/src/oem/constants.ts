/**
 * Wire constants of the OEM buffer-queue commands (PROTOCOL.md §2).
 * These bytes are normative: stock ipmitool and other people's code call them.
 */

/** NetFn of every queue request (OEM/Group); responses use 0x2F. PROTOCOL.md §2. */
export const OEM_NETFN = 0x2e;
export const OEM_NETFN_RESPONSE = 0x2f;

/** Default IANA Private Enterprise Number: 32473, RFC 5612 documentation PEN. PROTOCOL.md §2. */
export const DEFAULT_OEM_IANA = 32473;

/** Command codes within NetFn 0x2E. PROTOCOL.md §2. */
export const OemCommand = {
  GetQueueInfo: 0x00,
  PutRecord: 0x01,
  GetRecord: 0x02,
  ResetQueue: 0x03,
  /** Claim Producer Generation (docs/bmc-queues.md "Producer generation"): fences older vms-agent replicas. */
  ClaimProducerGeneration: 0x04,
} as const;
export type OemCommandCode = (typeof OemCommand)[keyof typeof OemCommand];

/** Queue numbers. PROTOCOL.md §1–2. */
export const QueueId = {
  /** Manager → hypervisor (the paper's Buffer Queue 1). */
  ToHost: 1,
  /** Hypervisor → manager (the paper's Buffer Queue 2). */
  ToManager: 2,
} as const;
export type QueueNumber = (typeof QueueId)[keyof typeof QueueId];

/** Completion codes the queue commands use. PROTOCOL.md §2 "Who may call what". */
export const OemCompletion = {
  Ok: 0x00,
  /** Put Record: seq > last_put_seq + 1. */
  SequenceGap: 0x80,
  /**
   * Put/Get Record from a LAN session not bound to the current producer
   * generation, or a claim of an older generation (docs/bmc-queues.md
   * "Producer generation"). The body carries the current generation.
   */
  Fenced: 0x81,
  InvalidCommand: 0xc1,
  /** Put Record: capacity_bytes would be exceeded. */
  QueueFull: 0xc4,
  RequestLengthInvalid: 0xc7,
  /** Unknown queue, bad IANA, commit_seq beyond last_put_seq, seq 0. */
  InvalidDataField: 0xcc,
  /** Wrong side or too low a privilege. */
  InsufficientPrivilege: 0xd4,
  Unspecified: 0xff,
} as const;

/** Defaults for the configurable limits. PROTOCOL.md §2. */
export const DEFAULT_MAX_RECORD = 200;
export const DEFAULT_QUEUE_CAPACITY_BYTES = 65536;

/** Fixed sizes, in bytes. */
export const IANA_BYTES = 3;
export const GET_QUEUE_INFO_RESPONSE_BYTES = IANA_BYTES + 1 + 4 + 4 + 4 + 2 + 2 + 4 + 4; // 28
export const GET_RECORD_RESPONSE_HEADER_BYTES = IANA_BYTES + 4 + 2 + 4; // 13
