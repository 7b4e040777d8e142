/**
 * State the system-interface App commands share across listeners: the BMC
 * Global Enables byte the host's KCS driver sets, and where queue 1 stands.
 */
import { QueueId } from '@backchannel/proto';
import type { QueueEngine } from '../queues/queue-engine.js';

/** BMC Global Enables bits (IPMI v2.0 §22.1). */
export const GlobalEnables = {
  ReceiveMessageQueueInterrupt: 0x01,
  EventMessageBufferFullInterrupt: 0x02,
  EventMessageBuffer: 0x04,
  SystemEventLogging: 0x08,
} as const;

/** Get Message Flags bits (IPMI v2.0 §22.4). Backchannel uses OEM0 for "queue 1 has records". */
export const MessageFlag = {
  ReceiveMessageAvailable: 0x01,
  EventMessageBufferFull: 0x02,
  WatchdogPretimeout: 0x08,
  Oem0: 0x20,
} as const;

export class HostInterfaceState {
  globalEnables = 0;

  constructor(readonly engine: QueueEngine) {}

  /** True while the host has asked for message interrupts, so ATN should come with an IRQ. */
  get messageInterruptsOn(): boolean {
    return (this.globalEnables & GlobalEnables.ReceiveMessageQueueInterrupt) !== 0;
  }

  /** Get Message Flags byte: OEM0 while queue 1 holds records (PROTOCOL.md §4). */
  messageFlags(): number {
    return this.engine.depth(QueueId.ToHost) > 0 ? MessageFlag.Oem0 : 0;
  }
}
