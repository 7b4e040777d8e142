/**
 * The four OEM buffer-queue commands (PROTOCOL.md §2) over a BmcSession,
 * with the proto codecs. Completion codes the caller must react to (gap,
 * full) come back as values; anything else is an OemQueueError.
 */
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  encodeOemRequest,
  type GetRecordResponse,
  OEM_NETFN,
  OemCommand,
  OemCompletion,
  type QueueInfoResponse,
} from '@backchannel/proto';
import type { BmcSession } from './bmc-session.js';

export class OemQueueError extends Error {
  readonly cc: number;
  constructor(what: string, cc: number) {
    super(`${what} failed with completion code 0x${cc.toString(16).padStart(2, '0')}${cc === OemCompletion.InsufficientPrivilege ? ' (privilege too low: the BMC user needs OPERATOR)' : ''}`);
    this.name = 'OemQueueError';
    this.cc = cc;
  }
}

export type PutOutcome = { kind: 'ok'; lastPutSeq: number } | { kind: 'gap' } | { kind: 'full' };
export type GetOutcome = { kind: 'ok'; response: GetRecordResponse } | { kind: 'bad-commit' };

export class OemQueueClient {
  readonly #session: BmcSession;
  readonly #iana: number;

  constructor(session: BmcSession, iana: number) {
    this.#session = session;
    this.#iana = iana;
  }

  async queueInfo(queue: number): Promise<QueueInfoResponse> {
    const r = await this.#session.request(OEM_NETFN, OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana: this.#iana, queue }));
    if (r.cc !== OemCompletion.Ok) throw new OemQueueError(`Get Queue Info (queue ${queue})`, r.cc);
    return decodeQueueInfoResponse(r.data);
  }

  async put(queue: number, seq: number, record: Uint8Array): Promise<PutOutcome> {
    const r = await this.#session.request(OEM_NETFN, OemCommand.PutRecord, encodeOemRequest({ kind: 'put-record', iana: this.#iana, queue, seq, record }));
    if (r.cc === OemCompletion.SequenceGap) return { kind: 'gap' };
    if (r.cc === OemCompletion.QueueFull) return { kind: 'full' };
    if (r.cc !== OemCompletion.Ok) throw new OemQueueError(`Put Record (queue ${queue}, seq ${seq})`, r.cc);
    return { kind: 'ok', lastPutSeq: decodePutRecordResponse(r.data).lastPutSeq };
  }

  async get(queue: number, commitSeq: number): Promise<GetOutcome> {
    const r = await this.#session.request(OEM_NETFN, OemCommand.GetRecord, encodeOemRequest({ kind: 'get-record', iana: this.#iana, queue, commitSeq }));
    // commit_seq beyond last_put_seq: the queue was reset under us (new epoch).
    if (r.cc === OemCompletion.InvalidDataField) return { kind: 'bad-commit' };
    if (r.cc !== OemCompletion.Ok) throw new OemQueueError(`Get Record (queue ${queue}, commit ${commitSeq})`, r.cc);
    return { kind: 'ok', response: decodeGetRecordResponse(r.data) };
  }
}
