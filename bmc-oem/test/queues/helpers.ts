/** Shared helpers for the queue tests: a deterministic random source and request builders. */
import { encodeOemRequest, oemRequestCommand, type OemQueueRequest } from '@backchannel/proto';
import type { QueueEngine, QueueSide } from '../../src/queues/queue-engine.js';

export const IANA = 32473;
export const OPERATOR = 3;
export const ADMIN = 4;
export const USER = 2;

/** A random source that counts up, so epochs are distinct and predictable. */
export function countingRandom(start = 1): (n: number) => Uint8Array {
  let next = start;
  return (n: number) => {
    const out = new Uint8Array(n);
    new DataView(out.buffer).setUint32(0, next++, true);
    return out;
  };
}

export type Req = OemQueueRequest extends infer R ? (R extends OemQueueRequest ? Omit<R, 'iana'> : never) : never;

export function call(engine: QueueEngine, side: QueueSide, privilege: number, req: Req) {
  const full = { ...req, iana: IANA } as OemQueueRequest;
  return engine.handle(oemRequestCommand(full), side, privilege, encodeOemRequest(full));
}

export const lan = (engine: QueueEngine, req: Req, privilege = OPERATOR) => call(engine, 'lan', privilege, req);
export const sys = (engine: QueueEngine, req: Req) => call(engine, 'system', ADMIN, req);
export const put = (queue: number, seq: number, record: Uint8Array): Req => ({ kind: 'put-record', queue, seq, record });
export const getRec = (queue: number, commitSeq: number): Req => ({ kind: 'get-record', queue, commitSeq });
export const info = (queue: number): Req => ({ kind: 'get-queue-info', queue });
export const reset = (queue: number): Req => ({ kind: 'reset-queue', queue });
export const bytes = (...b: number[]) => Uint8Array.from(b);
