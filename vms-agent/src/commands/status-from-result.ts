/**
 * A command result as news for the host's status. A result that says how the
 * acted-on domain looked right after the action (`domain_after_set`: its
 * state and libvirt id) brings the stored copy of the host's last status
 * report up to date for that domain, in the same transaction as the result.
 * The hypervisor-agent then sends no status report for that change (it sent
 * one after every action, repeating the result: two more BMC records each
 * way, a store write and an acknowledgement per command; docs/benchmarks.md
 * "link-cost"). Any other change still comes as a report.
 *
 * Only a result newer than the stored report changes it (both times are the
 * agent's clock): a result retransmitted after a later report was stored is
 * old news. The report keeps its own time and sequence number, so the next
 * report from the host replaces it as before.
 */
import { type backchannel, decodeMessage, encodeMessage, v1 } from '@backchannel/proto';
import type { StatusRecord } from '../store/store.js';

export function statusFromResult(status: StatusRecord | undefined, result: backchannel.v1.CommandResult): StatusRecord | undefined {
  if (!status || !result.domainAfterSet) return undefined;
  if (Number(result.completedAtMs) < status.timeMs) return undefined;
  const report = decodeMessage(v1.StatusReport, status.report, 'StatusReport');
  const domain = report.domains.find((d) => (result.domainUuid ? d.uuid === result.domainUuid : d.name === result.domainName));
  if (!domain) return undefined; // a domain the last report did not have: the agent reports it
  domain.state = result.newState;
  domain.id = result.domainIdAfter;
  return { ...status, report: encodeMessage(v1.StatusReport, report, 'StatusReport') };
}
