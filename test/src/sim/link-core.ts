/**
 * The link core's contract as the simulation drives it (issue 18: one pure
 * queue-hop state machine shared by both agents). The simulation's drivers
 * talk only to this interface, so the core under test is one constructor away.
 */
export interface HopCursor {
  putEpoch: number;
  getEpoch: number;
  commitSeq: number;
}

export type HopStep = { kind: 'request'; netfn: number; cmd: number; data: Uint8Array } | { kind: 'need-message' } | { kind: 'wait'; untilMs: number };

export type HopEvent =
  | { kind: 'queues'; put: unknown; get: unknown }
  | { kind: 'cursor'; cursor: HopCursor }
  | { kind: 'epoch-changed'; queue: 'put' | 'get'; oldEpoch: number; newEpoch: number }
  | { kind: 'message-put'; messageId: number }
  | { kind: 'record'; seq: number; record: Uint8Array }
  | { kind: 'empty'; atMs: number }
  | { kind: 'queue-full' }
  | { kind: 'resync'; reason: string }
  | { kind: 'foreign-producer'; expectedSeq: number; lastPutSeq: number };

export interface HopMessage {
  messageId: number;
  records: Uint8Array[];
}

export interface LinkCore {
  restore(cursor: HopCursor): void;
  connected(nowMs: number): void;
  disconnected(nowMs: number): number;
  next(nowMs: number): HopStep;
  offer(message: HopMessage | undefined, nowMs: number): void;
  onResponse(response: { cc: number; data: Uint8Array }, nowMs: number): HopEvent[];
  consumed(seq: number): void;
  wake(): void;
  expectReply(untilMs: number): void;
}

export interface LinkCoreOptions {
  role: 'manager' | 'host';
  iana: number;
  random: () => number;
}

export type LinkCoreFactory = (o: LinkCoreOptions) => LinkCore;
