/**
 * The one client of the four OEM buffer-queue commands (PROTOCOL.md §2) for
 * code that issues them one by one rather than through the link core: the
 * CLI's `hosts queues`, benchmarks, tests. It runs over whatever carries IPMI
 * requests (an RMCP+ session, the VM serial protocol, /dev/ipmi0), passed
 * in as a function, so it stays free of IO itself. It checks what the link
 * core checks: the answer's IANA, and on a Put the BMC's last_put_seq
 * (another producer's records under our seq are reported, not taken for
 * ours). Completion codes a caller reacts to come back as values; anything
 * else is a QueueHopError with its cc.
 */
import { OEM_NETFN, OemCompletion } from '../oem/constants.js';
import { encodeOemRequest, type OemQueueRequest, oemRequestCommand } from '../oem/queue-requests.js';
import { decodeGetRecordResponse, decodePutRecordResponse, decodeQueueInfoResponse, type GetRecordResponse, type QueueInfoResponse } from '../oem/queue-responses.js';
import { decodeQueueAnswer } from './queue-answer.js';

/** Sends one IPMI request and resolves with the completion code and the data after it. */
export type IpmiRequest = (netfn: number, cmd: number, data: Uint8Array) => Promise<{ cc: number; data: Uint8Array }>;

export type PutOutcome = { kind: 'ok'; lastPutSeq: number } | { kind: 'foreign'; lastPutSeq: number } | { kind: 'gap' } | { kind: 'full' };
export type GetOutcome = { kind: 'ok'; response: GetRecordResponse } | { kind: 'bad-commit' };

export class OemQueueClient {
  readonly #request: IpmiRequest;
  readonly #iana: number;

  /** `session`: anything with `request(netfn, cmd, data)`. */
  constructor(session: { request: IpmiRequest }, iana: number) {
    this.#request = (netfn, cmd, data) => session.request(netfn, cmd, data);
    this.#iana = iana;
  }

  async queueInfo(queue: number): Promise<QueueInfoResponse> {
    const r = await this.#call({ kind: 'get-queue-info', iana: this.#iana, queue });
    return decodeQueueAnswer(this.#iana, `Get Queue Info (queue ${queue})`, r, decodeQueueInfoResponse);
  }

  /** `foreign`: the BMC holds someone else's record under `seq` and did not store ours. */
  async put(queue: number, seq: number, record: Uint8Array): Promise<PutOutcome> {
    const r = await this.#call({ kind: 'put-record', iana: this.#iana, queue, seq, record });
    if (r.cc === OemCompletion.SequenceGap) return { kind: 'gap' };
    if (r.cc === OemCompletion.QueueFull) return { kind: 'full' };
    const { lastPutSeq } = decodeQueueAnswer(this.#iana, `Put Record (queue ${queue}, seq ${seq})`, r, decodePutRecordResponse);
    return lastPutSeq === seq ? { kind: 'ok', lastPutSeq } : { kind: 'foreign', lastPutSeq };
  }

  async get(queue: number, commitSeq: number): Promise<GetOutcome> {
    const r = await this.#call({ kind: 'get-record', iana: this.#iana, queue, commitSeq });
    // commit_seq beyond last_put_seq: the queue was reset under us (new epoch).
    if (r.cc === OemCompletion.InvalidDataField) return { kind: 'bad-commit' };
    return { kind: 'ok', response: decodeQueueAnswer(this.#iana, `Get Record (queue ${queue}, commit ${commitSeq})`, r, decodeGetRecordResponse) };
  }

  #call(request: OemQueueRequest): Promise<{ cc: number; data: Uint8Array }> {
    return this.#request(OEM_NETFN, oemRequestCommand(request), encodeOemRequest(request));
  }
}
