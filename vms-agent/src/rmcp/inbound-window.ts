/**
 * Duplicate and replay suppression for the session sequence numbers the BMC
 * sends (IPMI v2.0 §6.12.13). Called only after the packet's AuthCode
 * verified, so only the BMC itself can move the window: anything ahead of
 * the highest number is accepted (responses to lost requests leave gaps),
 * numbers within 32 behind are accepted once, older ones are dropped.
 */
export const INBOUND_WINDOW = 32;

export type InboundVerdict = 'ok' | 'zero' | 'duplicate' | 'too-old';

export class InboundWindow {
  private top = 0;
  /** Bit i set ⇔ number (top - i) was seen. */
  private seen = 0;

  accept(seq: number): InboundVerdict {
    if (seq === 0) return 'zero';
    if (this.top === 0) {
      this.top = seq;
      this.seen = 1;
      return 'ok';
    }
    const ahead = (seq - this.top + 0x100000000) % 0x100000000;
    if (ahead !== 0 && ahead < 0x80000000) {
      this.seen = ahead >= INBOUND_WINDOW ? 1 : ((this.seen << ahead) | 1) >>> 0;
      this.top = seq;
      return 'ok';
    }
    const back = (this.top - seq + 0x100000000) % 0x100000000;
    if (back >= INBOUND_WINDOW) return 'too-old';
    if ((this.seen >>> back) & 1) return 'duplicate';
    this.seen = (this.seen | (1 << back)) >>> 0;
    return 'ok';
  }
}
