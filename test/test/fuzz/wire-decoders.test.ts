// Bounded fuzzing of the wire decoders below the envelope: RMCP+/IPMI
// (datagram, LAN messages, Open Session, RAKP), the OEM queue commands and
// the VM serial protocol (payloads, control commands, the stream decoder).
// Each may only return or throw WireError. The listeners that use them are
// fuzzed through their sockets in bmc-oem-udp/bmc-oem-vm.test.ts.
import {
  decodeGetRecordResponse,
  decodeIpmiLanRequest,
  decodeIpmiLanResponse,
  decodeOemRequest,
  decodeOpenSessionRequest,
  decodeOpenSessionResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  decodeRakp1,
  decodeRakp2,
  decodeRakp3,
  decodeRakp4,
  decodeRmcpDatagram,
  decodeVmControlPayload,
  decodeVmRequestPayload,
  decodeVmResponsePayload,
  encodeGetRecordResponse,
  encodePutRecordResponse,
  encodeQueueInfoResponse,
  OemCommand,
  VmFrameDecoder,
  WireError,
} from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { FUZZ_SCALE, fuzz, type FuzzTarget } from '../../src/fuzz/harness.js';
import { sessionRequests, staticRmcpCorpus } from '../../src/fuzz/rmcp-corpus.js';
import { vmFrameCorpus } from '../../src/fuzz/vm-frame-corpus.js';

const IANA = 32473;
const isWire = (err: unknown) => err instanceof WireError;

/** Runs every decoder on the same bytes: each may return or throw WireError, nothing else. */
function eachDecoder(decoders: Array<(bytes: Uint8Array) => unknown>): (bytes: Uint8Array) => void {
  return (bytes) => {
    for (const decode of decoders) {
      try {
        decode(bytes);
      } catch (err) {
        if (!isWire(err)) throw err;
      }
    }
  };
}
const rmcp = staticRmcpCorpus().map((e) => e.bytes);
const lanRequests = sessionRequests(IANA);
const vm = vmFrameCorpus(IANA);
const oemBodies = lanRequests.slice(-5).map((m) => m.subarray(6, m.length - 1)); // IANA + queue + ... (between cmd and checksum)
const RMCP_PAYLOAD_OFFSET = 16; // RMCP (4) + IPMI 2.0 session header (12) for pre-session payloads

const targets: Array<[FuzzTarget, number]> = [
  [{ name: 'rmcp-datagram', corpus: rmcp, run: decodeRmcpDatagram, isExpectedError: isWire }, 40_000],
  [{ name: 'ipmi-lan-request', corpus: lanRequests, run: decodeIpmiLanRequest, isExpectedError: isWire }, 30_000],
  [{ name: 'ipmi-lan-response', corpus: lanRequests, run: decodeIpmiLanResponse, isExpectedError: isWire }, 10_000],
  [
    {
      name: 'open-session',
      corpus: rmcp.slice(-2).map((d) => d.subarray(RMCP_PAYLOAD_OFFSET)),
      run: eachDecoder([decodeOpenSessionRequest, decodeOpenSessionResponse]),
      isExpectedError: isWire,
    },
    20_000,
  ],
  [
    {
      name: 'rakp',
      corpus: [Uint8Array.from({ length: 44 }, (_, i) => (i === 27 ? 5 : i))],
      run: eachDecoder([decodeRakp1, decodeRakp2, decodeRakp3, decodeRakp4]),
      isExpectedError: isWire,
    },
    20_000,
  ],
  [
    {
      name: 'oem-request',
      corpus: oemBodies,
      run: eachDecoder([OemCommand.GetQueueInfo, OemCommand.PutRecord, OemCommand.GetRecord, OemCommand.ResetQueue, 0x7f].map((cmd) => (b: Uint8Array) => decodeOemRequest(cmd, b))),
      isExpectedError: isWire,
    },
    20_000,
  ],
  [
    {
      name: 'oem-response',
      corpus: [
        encodeQueueInfoResponse({ iana: IANA, queue: 1, bmcEpoch: 0xdeadbeef, capacityBytes: 65536, usedBytes: 400, depth: 2, maxRecord: 200, lastPutSeq: 9, committedSeq: 7 }),
        encodePutRecordResponse({ iana: IANA, lastPutSeq: 3 }),
        encodeGetRecordResponse({ iana: IANA, committedSeq: 1, depth: 1, seq: 2, record: Uint8Array.of(1, 2, 3) }),
      ],
      run: eachDecoder([decodeQueueInfoResponse, decodePutRecordResponse, decodeGetRecordResponse]),
      isExpectedError: isWire,
    },
    20_000,
  ],
  [
    {
      name: 'vm-payload',
      corpus: vm.payloads,
      run: eachDecoder([decodeVmRequestPayload, decodeVmResponsePayload, decodeVmControlPayload]),
      isExpectedError: isWire,
    },
    30_000,
  ],
  [
    {
      name: 'vm-stream',
      corpus: vm.frames,
      run: (() => {
        const decoder = new VmFrameDecoder();
        return (b: Uint8Array) => decoder.push(b);
      })(),
      isExpectedError: () => false, // the stream decoder reports bad frames as events, never throws
    },
    30_000,
  ],
];

describe('fuzz: RMCP+, OEM queue and VM serial decoders', () => {
  for (const [target, iterations] of targets) {
    it(`${target.name}: ${iterations * FUZZ_SCALE} inputs, only the codec's own errors`, () => {
      const report = fuzz(target, iterations * FUZZ_SCALE);
      expect(report.failures).toEqual([]);
      expect(report.executions).toBeGreaterThanOrEqual(iterations * FUZZ_SCALE);
    });
  }
});
