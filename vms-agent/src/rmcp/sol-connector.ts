/**
 * Connectors for hosts whose BMC is stock: an RMCP+ session, SOL activated
 * on it, and the link's queue requests tunnelled to the hypervisor-agent on
 * the host serial port (sol-tunnel.ts). `transportConnector` picks SOL for
 * the hosts configured with `transport: sol` and the OEM-queue connector
 * for the rest.
 */
import type { BmcConnector, BmcSession, BmcTarget } from '../link/bmc-session.js';
import { systemClock, type Clock } from './clock.js';
import { openSession } from './open-session.js';
import { SolConsole } from './sol-console.js';
import { SolTunnel } from './sol-tunnel.js';

export interface SolTuning {
  timeoutMs?: number;
  retries?: number;
  clock?: Clock;
  /** SOL bit rate of the host line in bytes/s (baud / 10). */
  lineBytesPerSecond?: number;
}

export function solConnectorWith(tuning: SolTuning = {}): BmcConnector {
  const clock = tuning.clock ?? systemClock;
  return async (t: BmcTarget): Promise<BmcSession> => {
    const session = await openSession({
      host: t.host,
      port: t.port,
      user: t.user,
      password: t.password,
      privilege: t.privilege,
      cipherSuites: t.cipherSuites,
      ...(tuning.timeoutMs === undefined ? {} : { timeoutMs: tuning.timeoutMs }),
      ...(tuning.retries === undefined ? {} : { retries: tuning.retries }),
    });
    try {
      // takeOver: after a restart our previous session may still hold the payload until the BMC times it out.
      const console = await SolConsole.activate(session, { clock, takeOver: true });
      return new SolTunnel(console, {
        clock,
        ...(tuning.lineBytesPerSecond === undefined ? {} : { lineBytesPerSecond: tuning.lineBytesPerSecond }),
        close: async () => {
          await console.deactivate();
          await session.close();
        },
      });
    } catch (err) {
      await session.close().catch(() => undefined);
      throw err;
    }
  };
}

/** SOL for the hosts in `solHosts`, `oem` for every other host. */
export function transportConnector(o: { oem: BmcConnector; sol: BmcConnector; solHosts: ReadonlySet<string> }): BmcConnector {
  return (t) => (t.hostId !== undefined && o.solHosts.has(t.hostId) ? o.sol(t) : o.oem(t));
}
