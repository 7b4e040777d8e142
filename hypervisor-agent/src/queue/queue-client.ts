/**
 * The host's side of the OEM queue commands over any BmcTransport. Returns
 * decoded responses; a non-zero completion code becomes a QueueCcError the
 * link engine switches on (0x80 resync, 0xC4 back off, 0xCC cursor ahead).
 */
import type { BmcTransport } from '../transport/bmc-transport.js';
import {
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfo,
  DEFAULT_IANA,
  encodeGetQueueInfo,
  encodeGetRecord,
  encodePutRecord,
  type GetRecordResponse,
  OEM_CMD,
  OEM_NETFN,
  type QueueInfo,
} from './oem-queue-codec.js';

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

  constructor(transport: BmcTransport, iana = DEFAULT_IANA) {
    this.#transport = transport;
    this.#iana = iana;
  }

  get transport(): BmcTransport {
    return this.#transport;
  }

  async getQueueInfo(queue: number): Promise<QueueInfo> {
    const data = await this.#call('Get Queue Info', OEM_CMD.getQueueInfo, encodeGetQueueInfo(this.#iana, queue));
    return decodeQueueInfo(data, this.#iana);
  }

  async putRecord(queue: number, seq: number, record: Uint8Array): Promise<{ lastPutSeq: number }> {
    const data = await this.#call('Put Record', OEM_CMD.putRecord, encodePutRecord(this.#iana, queue, seq, record));
    return decodePutRecordResponse(data, this.#iana);
  }

  async getRecord(queue: number, commitSeq: number): Promise<GetRecordResponse> {
    const data = await this.#call('Get Record', OEM_CMD.getRecord, encodeGetRecord(this.#iana, queue, commitSeq));
    return decodeGetRecordResponse(data, this.#iana);
  }

  async #call(what: string, cmd: number, request: Uint8Array): Promise<Uint8Array> {
    const { cc, data } = await this.#transport.request(OEM_NETFN, cmd, request);
    if (cc !== 0) throw new QueueCcError(what, cc);
    return data;
  }
}
