/**
 * The host's side of the OEM queue commands (PROTOCOL.md §2) over any
 * BmcTransport, using the shared codec in @backchannel/proto. A non-zero
 * completion code becomes a QueueCcError the link engine switches on
 * (0x80 resync, 0xC4 back off, 0xCC cursor ahead of the BMC).
 */
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  DEFAULT_OEM_IANA,
  encodeOemRequest,
  type GetRecordResponse,
  OEM_NETFN,
  type OemQueueRequest,
  oemRequestCommand,
  type QueueInfoResponse,
  WireError,
} from '@backchannel/proto';
import type { BmcTransport } from '../transport/bmc-transport.js';

export class QueueCcError extends Error {
  readonly cc: number;
  readonly command: string;
  constructor(command: string, cc: number) {
    super(`${command} answered completion code 0x${cc.toString(16).padStart(2, '0')}`);
    this.name = 'QueueCcError';
    this.cc = cc;
    this.command = command;
  }
}

export class QueueClient {
  readonly #transport: BmcTransport;
  readonly #iana: number;

  constructor(transport: BmcTransport, iana = DEFAULT_OEM_IANA) {
    this.#transport = transport;
    this.#iana = iana;
  }

  async getQueueInfo(queue: number): Promise<QueueInfoResponse> {
    return this.#checked(decodeQueueInfoResponse(await this.#call({ kind: 'get-queue-info', iana: this.#iana, queue })));
  }

  async putRecord(queue: number, seq: number, record: Uint8Array): Promise<{ lastPutSeq: number }> {
    return this.#checked(decodePutRecordResponse(await this.#call({ kind: 'put-record', iana: this.#iana, queue, seq, record })));
  }

  async getRecord(queue: number, commitSeq: number): Promise<GetRecordResponse> {
    return this.#checked(decodeGetRecordResponse(await this.#call({ kind: 'get-record', iana: this.#iana, queue, commitSeq })));
  }

  #checked<T extends { iana: number }>(response: T): T {
    if (response.iana !== this.#iana) throw new WireError('ERR_BAD_FIELD', `response IANA ${response.iana} is not ${this.#iana}`, 0);
    return response;
  }

  async #call(request: OemQueueRequest): Promise<Uint8Array> {
    const { cc, data } = await this.#transport.request(OEM_NETFN, oemRequestCommand(request), encodeOemRequest(request));
    if (cc !== 0) throw new QueueCcError(request.kind, cc);
    return data;
  }
}
