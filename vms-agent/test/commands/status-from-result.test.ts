import { type backchannel, DomainState, decodeMessage, encodeMessage, Outcome, v1 } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { statusFromResult } from '../../src/commands/status-from-result.js';
import type { StatusRecord } from '../../src/store/store.js';

const WEB1 = '6695eb01-f6a4-8304-79aa-97f2502e1931';
const DB1 = '6695eb01-f6a4-8304-79aa-97f2502e1933';

function status(timeMs: number): StatusRecord {
  const report = v1.StatusReport.create({
    hostId: 'hv-01',
    timeMs,
    reportSeq: 7,
    domains: [
      { name: 'db-1', uuid: DB1, state: DomainState.DOMAIN_STATE_PAUSED, id: 3, vcpus: 4 },
      { name: 'web-1', uuid: WEB1, state: DomainState.DOMAIN_STATE_RUNNING, id: 2, vcpus: 2 },
    ],
  });
  return { hostId: 'hv-01', report: encodeMessage(v1.StatusReport, report, 'StatusReport'), reportSeq: 7, timeMs, receivedAtMs: timeMs + 5 };
}

const destroyed = (completedAtMs: number, extra: Partial<backchannel.v1.ICommandResult> = {}) =>
  v1.CommandResult.create({
    requestId: 'r1',
    outcome: Outcome.OUTCOME_APPLIED,
    previousState: DomainState.DOMAIN_STATE_RUNNING,
    newState: DomainState.DOMAIN_STATE_SHUTOFF,
    completedAtMs,
    domainName: 'web-1',
    domainUuid: WEB1,
    domainIdAfter: -1,
    domainAfterSet: true,
    ...extra,
  });

const domains = (s: StatusRecord) => decodeMessage(v1.StatusReport, s.report, 'StatusReport').domains.map((d) => [d.name, d.state, d.id, d.vcpus]);

describe('statusFromResult', () => {
  it("brings the acted-on domain's state and id up to date, and nothing else", () => {
    const before = status(1_000);
    const after = statusFromResult(before, destroyed(2_000));
    expect(after).toMatchObject({ hostId: 'hv-01', reportSeq: 7, timeMs: 1_000, receivedAtMs: 1_005 });
    expect(domains(after!)).toEqual([
      ['db-1', DomainState.DOMAIN_STATE_PAUSED, 3, 4],
      ['web-1', DomainState.DOMAIN_STATE_SHUTOFF, -1, 2],
    ]);
    const started = statusFromResult(after, destroyed(3_000, { newState: DomainState.DOMAIN_STATE_RUNNING, domainIdAfter: 9 }));
    expect(domains(started!)[1]).toEqual(['web-1', DomainState.DOMAIN_STATE_RUNNING, 9, 2]);
  });

  it('changes nothing for a result older than the report, one without the domain after, an unknown domain, or no report', () => {
    expect(statusFromResult(status(5_000), destroyed(4_999))).toBeUndefined();
    expect(statusFromResult(status(1_000), destroyed(2_000, { domainAfterSet: false }))).toBeUndefined();
    expect(statusFromResult(status(1_000), destroyed(2_000, { domainUuid: '6695eb01-f6a4-8304-79aa-97f2502e1999', domainName: 'web-9' }))).toBeUndefined();
    expect(statusFromResult(undefined, destroyed(2_000))).toBeUndefined();
  });
});
