/** Turns RMCP+ server events into metrics and log lines (and the start of a login throttle into an audit record). */
import type { Logger } from 'pino';
import type { BmcMetrics } from '../metrics.js';
import type { RmcpEvents } from '../rmcp/rmcp-events.js';
import { privilegeName } from '../commands/privilege.js';

export interface ObserverHooks {
  /** A source's failed logins for a user went past the free ones (SEL record, security event). */
  throttleStarted?: (user: string, source: string, failures: number, delayMs: number) => void;
}

export function rmcpObserver(logger: Logger, metrics: BmcMetrics, hooks: ObserverHooks = {}): RmcpEvents {
  return {
    datagramDropped(reason, peer, detail) {
      metrics.datagramsDropped.inc({ reason });
      if (reason === 'internal') logger.error({ peer, detail }, 'datagram dropped: internal error');
      else logger.debug({ peer, reason, detail }, 'datagram dropped');
    },
    sessionActivated(s) {
      logger.info({ session: s.id, user: s.user?.name, suite: s.algorithms.suite, max: privilegeName(s.maxPrivilege), peer: s.peer }, 'session opened');
    },
    sessionEnded(s, why) {
      metrics.sessionsEnded.inc({ reason: why });
      logger.info({ session: s.id, user: s.user?.name, why }, 'session ended');
    },
    authFailed(user, why, peer) {
      metrics.authFailures.inc();
      logger.warn({ user, why, peer }, 'authentication failed');
    },
    loginThrottleStarted(user, source, failures, delayMs) {
      hooks.throttleStarted?.(user, source, failures, delayMs);
    },
    loginThrottled(user, peer, retryAfterMs) {
      metrics.loginsThrottled.inc();
      logger.info({ user, peer, retryAfterMs }, 'login refused: this source must wait after failed logins');
    },
    sessionLimitReached(bound, peer, user) {
      metrics.sessionLimits.inc({ bound });
      logger.info({ bound, peer, user }, 'session refused: bound reached');
    },
    commandAnswered(name, netfn, cmd, cc) {
      metrics.requests.inc({ command: name ?? 'unknown', cc: `0x${cc.toString(16).padStart(2, '0')}` });
      logger.trace({ command: name, netfn, cmd, cc }, 'request answered');
    },
    handlerFault(name, err) {
      metrics.handlerFaults.inc({ command: name });
      logger.error({ command: name, err }, 'command handler failed');
    },
  };
}
