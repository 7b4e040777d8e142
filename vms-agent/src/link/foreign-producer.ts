/**
 * The manager-side `foreign_producer` alert (team numbering: a manager-side
 * kind, a string in the store; AlertKind 10 stays reserved on the wire).
 *
 * Queue 1 has one legitimate producer, this host's link. A Put Record
 * answered with a `last_put_seq` above the seq just put means someone else
 * (anyone holding the BMC operator password) put records there: the BMC
 * took ours as a retransmission and did not store it. The link continues
 * after the foreign records at once; this is what the security team sees.
 *
 * One foreign record that takes exactly the seq the link puts next cannot
 * be told from a retransmission by the Put answer alone (it says
 * `last_put_seq` = ours either way): the hypervisor-agent then reads a
 * record that is no fragment of ours and raises `malformed_record` (or
 * `decryption_failed`), and the torn message is sent again.
 */
import type { RandomBytes } from '@backchannel/proto';
import type { AlertInput } from '../store/store.js';

export const FOREIGN_PRODUCER_KIND = 'foreign_producer';

export function foreignProducerAlert(a: { hostId: string; ourSeq: number; lastPutSeq: number; count: number; nowMs: number; randomBytes: RandomBytes }): AlertInput {
  const id = Buffer.from(a.randomBytes(8)).toString('hex');
  return {
    alertId: `${FOREIGN_PRODUCER_KIND}:${id}`,
    hostId: a.hostId,
    kind: FOREIGN_PRODUCER_KIND,
    principal: '',
    action: '',
    domain: '',
    reason:
      `another producer put records on BMC queue 1 of host ${a.hostId} (Put Record of seq ${a.ourSeq} answered last_put_seq ${a.lastPutSeq}; ` +
      `${a.count} foreign record(s) since the last alert); only vms-agent should: someone holds this BMC's operator password. The link resynchronised after them`,
    timeMs: a.nowMs,
    requestId: '',
    signatureStatus: 'manager',
    receivedAtMs: a.nowMs,
    raw: new Uint8Array(0),
  };
}
