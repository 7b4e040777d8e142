/**
 * Watches Put Record on queue 1 from the LAN for a second producer (issue
 * 18's "foreign producer"): the same seq put again with different bytes,
 * from a different source address or user than the put that stored it. The
 * queue engine answers that put as a retransmission (and the manager
 * notices from `last_put_seq`); here it becomes a SEL record and a security
 * event. A producer's own late or repeated datagrams (same source and user)
 * are never flagged. It observes answered requests through the command
 * table and never touches the queues (queues/ is another owner's).
 */
import { OemCommand, QueueId } from '@backchannel/proto';
import type { CommandContext } from '../commands/command-types.js';
import type { DispatchOutcome, DispatchRequest } from '../commands/registry.js';
import { sourceAddress } from '../rmcp/peer-address.js';

/** Puts remembered per queue (their seq, bytes and producer): enough to cover what a producer retransmits. */
const REMEMBERED = 1024;
const NETFN_OEM_GROUP = 0x2e;

interface Put {
  bytes: Uint8Array;
  source: string;
  user: string;
}

export type CollisionListener = (queue: number, seq: number, peer: string, user: string) => void;

export class QueueAudit {
  readonly #puts = new Map<number, Put>();

  constructor(
    private readonly iana: number,
    /** The peer a LAN session's requests come from, by session id. */
    private readonly peerOf: (sessionId: number) => string | undefined,
    private readonly onCollision: CollisionListener,
  ) {}

  observe(ctx: CommandContext, req: DispatchRequest, outcome: DispatchOutcome): void {
    if (req.netfn !== NETFN_OEM_GROUP || ctx.channel !== 'lan' || ctx.session === undefined || outcome.cc !== 0) return;
    const d = req.data;
    if (d.length < 4 || ((d[0] ?? 0) | ((d[1] ?? 0) << 8) | ((d[2] ?? 0) << 16)) !== this.iana || d[3] !== QueueId.ToHost) return;
    if (req.cmd === OemCommand.ResetQueue) {
      this.#puts.clear();
      return;
    }
    if (req.cmd !== OemCommand.PutRecord || d.length < 9) return;
    const seq = ((d[4] ?? 0) | ((d[5] ?? 0) << 8) | ((d[6] ?? 0) << 16) | ((d[7] ?? 0) << 24)) >>> 0;
    const bytes = d.subarray(8);
    const peer = this.peerOf(ctx.session.id) ?? '';
    const source = sourceAddress(peer);
    const user = ctx.session.userName;
    const seen = this.#puts.get(seq);
    if (seen !== undefined) {
      if (!Buffer.from(seen.bytes).equals(Buffer.from(bytes)) && (seen.source !== source || seen.user !== user)) this.onCollision(QueueId.ToHost, seq, peer, user);
      return;
    }
    this.#puts.set(seq, { bytes: Uint8Array.from(bytes), source, user });
    if (this.#puts.size > REMEMBERED) {
      const oldest = this.#puts.keys().next().value;
      if (oldest !== undefined) this.#puts.delete(oldest);
    }
  }
}
