/**
 * The link core as the simulation drives it: proto's QueueHop (issue 18: one
 * pure queue-hop state machine shared by both agents). The drivers see only
 * this interface, so a core with a deliberate fault (or a candidate fix) is
 * one factory away (`LinkSimOptions.core`).
 */
import type { HopCursor, HopEvent, HopStep, OutboundMessage, QueueHop, QueueHopOptions } from '@backchannel/proto';

export type { HopCursor, HopEvent, HopStep, OutboundMessage };

export type LinkCore = Pick<QueueHop, 'restore' | 'connected' | 'disconnected' | 'next' | 'offer' | 'onResponse' | 'consumed' | 'wake' | 'setReplyWindow'>;

export type LinkCoreFactory = (o: QueueHopOptions) => LinkCore;
