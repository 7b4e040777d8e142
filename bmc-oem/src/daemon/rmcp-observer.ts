/** Turns RMCP+ server events into metrics and log lines. */
import type { Logger } from 'pino';
import type { BmcMetrics } from '../metrics.js';
import type { RmcpEvents } from '../rmcp/rmcp-events.js';
import { privilegeName } from '../commands/privilege.js';

export function rmcpObserver(logger: Logger, metrics: BmcMetrics): RmcpEvents {
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
    userLockedOut(user, forMs) {
      metrics.lockouts.inc();
      logger.warn({ user, forMs }, 'user locked out after repeated RAKP failures');
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
