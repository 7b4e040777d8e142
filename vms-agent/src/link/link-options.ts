/**
 * What a host link is tuned with and what it is given to run, shared by
 * `HostLink` (one host) and `LinkManager` (which hands the same
 * dependencies to every link it starts).
 */
import { type BackoffPolicy, DEFAULT_TIME_TOLERANCE, type EnvelopeKeyOptions, type RandomBytes, type RetransmitPolicy, type TimeTolerance } from '@backchannel/proto';
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../api/metrics.js';
import type { CommandService } from '../commands/command-service.js';
import type { Store } from '../store/store.js';
import type { BmcConnector } from './bmc-session.js';

export interface LinkTuning {
  pollMinMs: number;
  pollMaxMs: number;
  reconnect: BackoffPolicy;
  queueFull: BackoffPolicy;
  retransmit: RetransmitPolicy;
  /** How long an owed acknowledgement waits for outgoing traffic to ride on. */
  ackDelayMs: number;
  /**
   * Queue 2 has no doorbell on the LAN side, so after sending a command
   * request or a challenge response the link polls this often until the
   * host's challenge or result arrives (or `replyWindowMs` passes), instead
   * of waiting out the idle schedule: a round trip costs a few ms, not a poll interval.
   */
  replyPollMs: number;
  replyWindowMs: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** Re-read Get Queue Info this often to notice a BMC that lost its queues. */
  queueInfoEveryMs: number;
  keys: EnvelopeKeyOptions;
  /** How far the host's clock may be off and how long a message may wait (proto TimeTolerance). */
  time: TimeTolerance;
}

export const DEFAULT_LINK_TUNING: LinkTuning = {
  pollMinMs: 50,
  pollMaxMs: 1000,
  reconnect: { initialMs: 500, maxMs: 30_000 },
  queueFull: { initialMs: 200, maxMs: 5_000 },
  retransmit: { initialTimeoutMs: 5_000, maxTimeoutMs: 60_000 },
  ackDelayMs: 200,
  replyPollMs: 1,
  replyWindowMs: 500,
  // Safety nets only, above the RMCP+ client's own give-up (4 s a request; a handshake is four
  // requests): a request the client still retransmits must not be abandoned under it.
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 30_000,
  queueInfoEveryMs: 15_000,
  keys: {},
  time: DEFAULT_TIME_TOLERANCE,
};

/** The store, services, IO and clock every host link runs with. */
export interface LinkDependencies {
  store: Store;
  commands: CommandService;
  connector: BmcConnector;
  clock: () => number;
  randomBytes: RandomBytes;
  random: () => number;
  tuning?: Partial<LinkTuning>;
  metrics?: ServiceMetrics;
  logger?: Logger;
  agentVersion?: string;
}
