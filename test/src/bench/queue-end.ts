/**
 * One side of the BMC queues for the throughput benchmarks (goodput, sol):
 * Put and Get through proto's OemQueueClient over whatever carries IPMI
 * requests (an RMCP+ session, the VM serial protocol, SOL). A gap or another
 * producer's records are a broken run here, not something to recover from.
 */
import { OemQueueClient } from '@backchannel/proto';

export interface QueueEnd {
  maxRecord(queue: number): Promise<number>;
  put(queue: number, seq: number, record: Uint8Array): Promise<'ok' | 'full'>;
  get(queue: number, commit: number): Promise<{ seq: number; record: Uint8Array }>;
  lastPutSeq(queue: number): Promise<number>;
}

export function queueEnd(carrier: { request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }> }, iana: number): QueueEnd {
  const q = new OemQueueClient(carrier, iana);
  return {
    maxRecord: async (queue) => (await q.queueInfo(queue)).maxRecord,
    async put(queue, seq, record) {
      const r = await q.put(queue, seq, record);
      if (r.kind === 'gap' || r.kind === 'foreign') throw new Error(`Put Record ${r.kind} at seq ${seq}`);
      return r.kind;
    },
    async get(queue, commit) {
      const r = await q.get(queue, commit);
      if (r.kind !== 'ok') throw new Error('Get Record: commit beyond the queue');
      return r.response;
    },
    lastPutSeq: async (queue) => (await q.queueInfo(queue)).lastPutSeq,
  };
}
