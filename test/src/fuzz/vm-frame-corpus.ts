/**
 * Seed frames for fuzzing a VM-protocol system interface (PROTOCOL.md §4)
 * over its byte stream, all valid and built with the proto codecs: the App
 * commands a Linux KCS driver sends, standard commands, the four OEM queue
 * commands as the host sends them, and the control frames a host sends
 * (version, capabilities, reset).
 *
 * Frames mutate as wire bytes (escapes and terminators included) or as
 * payloads re-framed with a valid checksum half the time, so mutations get
 * past the checksum to the command table.
 */
import {
  AppCommand,
  ChassisCommand,
  encodeOemRequest,
  encodeVmControlFrame,
  encodeVmRequestPayload,
  frameVmPayload,
  NetFn,
  OemCommand,
  VmCapability,
  VmChar,
  vmChecksum,
  type VmRequest,
} from '@backchannel/proto';
import { type FuzzRandom, mutate } from './harness.js';

export function vmRequestCorpus(iana: number): VmRequest[] {
  const req = (seq: number, netfn: number, cmd: number, data: Uint8Array = new Uint8Array(0)): VmRequest => ({ seq, netfn, lun: 0, cmd, data });
  const record = Uint8Array.from({ length: 40 }, (_, i) => 0xa0 + (i % 16)); // bytes that need escaping
  return [
    req(1, NetFn.APP, AppCommand.GET_DEVICE_ID),
    req(2, NetFn.APP, AppCommand.GET_BMC_GLOBAL_ENABLES),
    req(3, NetFn.APP, AppCommand.SET_BMC_GLOBAL_ENABLES, Uint8Array.of(0x0d)),
    req(4, NetFn.APP, AppCommand.GET_MESSAGE_FLAGS),
    req(5, NetFn.APP, AppCommand.CLEAR_MESSAGE_FLAGS, Uint8Array.of(0xff)),
    req(6, NetFn.APP, AppCommand.GET_MESSAGE),
    req(7, NetFn.APP, AppCommand.READ_EVENT_MESSAGE_BUFFER),
    req(8, NetFn.APP, AppCommand.GET_CHANNEL_INFO, Uint8Array.of(0x0f)),
    req(9, NetFn.APP, AppCommand.GET_DEVICE_GUID),
    req(10, NetFn.APP, AppCommand.GET_SELF_TEST_RESULTS),
    req(11, NetFn.CHASSIS, ChassisCommand.GET_CHASSIS_STATUS),
    req(12, NetFn.OEM_GROUP, OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana, queue: 1 })),
    req(13, NetFn.OEM_GROUP, OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana, queue: 2 })),
    req(14, NetFn.OEM_GROUP, OemCommand.PutRecord, encodeOemRequest({ kind: 'put-record', iana, queue: 2, seq: 1, record })),
    req(15, NetFn.OEM_GROUP, OemCommand.GetRecord, encodeOemRequest({ kind: 'get-record', iana, queue: 1, commitSeq: 0 })),
    req(16, NetFn.OEM_GROUP, OemCommand.ResetQueue, encodeOemRequest({ kind: 'reset-queue', iana, queue: 2 })),
  ];
}

export interface VmFrameCorpus {
  /** Whole frames as wire bytes. */
  frames: Uint8Array[];
  /** Unescaped request payloads (checksum included), for payload-level mutation. */
  payloads: Uint8Array[];
}

export function vmFrameCorpus(iana: number): VmFrameCorpus {
  const payloads = vmRequestCorpus(iana).map(encodeVmRequestPayload);
  const frames = [
    ...payloads.map((p) => frameVmPayload(p, VmChar.MessageEnd)),
    encodeVmControlFrame({ kind: 'version', version: 1 }),
    encodeVmControlFrame({ kind: 'capabilities', capabilities: VmCapability.Attn | VmCapability.Irq | VmCapability.Power | VmCapability.Reset }),
    encodeVmControlFrame({ kind: 'reset' }),
    encodeVmControlFrame({ kind: 'unknown', code: 0x42, operands: Uint8Array.of(1, 2) }),
  ];
  return { frames, payloads };
}

/**
 * One fuzz input: noise, a mutated wire frame, or a mutated payload framed
 * again (mostly with its checksum fixed and after a terminator that ends
 * whatever the stream left unfinished, so it reaches the command table).
 */
export function vmFuzzInput(corpus: VmFrameCorpus, rng: FuzzRandom): Uint8Array {
  const choice = rng.below(4);
  if (choice === 0) return rng.bytes(1 + rng.below(64));
  if (choice === 1) return mutate(corpus.frames[rng.below(corpus.frames.length)] ?? new Uint8Array(0), rng);
  const payload = mutate(corpus.payloads[rng.below(corpus.payloads.length)] ?? new Uint8Array(0), rng);
  if (payload.length > 0 && rng.below(4) !== 0) payload[payload.length - 1] = vmChecksum(payload, payload.length - 1);
  const frame = frameVmPayload(payload, rng.below(16) === 0 ? VmChar.ControlEnd : VmChar.MessageEnd);
  // Mostly start clean: noise before it (with no terminator) would otherwise become part of this frame.
  return rng.below(4) !== 0 ? Uint8Array.of(VmChar.MessageEnd, ...frame) : frame;
}
