import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Action,
  actionName,
  AlertKind,
  alertKindName,
  decodeBody,
  DomainState,
  domainStateName,
  encodeBody,
  Outcome,
  outcomeName,
  parseActionName,
  toHex,
  v1,
  WireError,
} from '../src/index.js';
import { onlyWireErrors } from './helpers/codec-fixture.js';

describe('protobuf schema v1', () => {
  it('round-trips every payload kind', () => {
    const domain = { name: 'web-1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', state: DomainState.DOMAIN_STATE_RUNNING, vcpus: 2, memoryKib: 2_097_152, maxMemoryKib: 4_194_304, id: 3 };
    const bodies = [
      { commandRequest: { requestId: 'r1', principal: 'alice', action: Action.ACTION_REBOOT, domain: 'web-1', parameters: { x: 'y' }, issuedAtMs: 1_700_000_000_123, hostId: 'hv' } },
      { challenge: { requestId: 'r1', nonce: new Uint8Array(32).fill(1), expiresAtMs: 1_700_000_060_000, requestDigest: new Uint8Array(32).fill(2), hostId: 'hv', approvalsRequired: 2, approvers: ['alice', 'bob'] } },
      { challengeResponse: { requestId: 'r1', nonce: new Uint8Array(32).fill(1), signatures: [{ keyId: '0011223344556677', signature: new Uint8Array(64).fill(3) }] } },
      { commandResult: { requestId: 'r1', outcome: Outcome.OUTCOME_FAILED, previousState: DomainState.DOMAIN_STATE_SHUTOFF, newState: DomainState.DOMAIN_STATE_SHUTOFF, errorCode: 'VIR_ERR_OPERATION_INVALID', errorMessage: 'domain is not running', completedAtMs: 5, domains: [domain], domainInfo: domain } },
      { statusReport: { hostId: 'hv', timeMs: 9, agentVersion: '0.1.0', libvirtVersion: '9.0.0', hypervisor: 'Test', domains: [domain, { ...domain, name: 'db-1', id: -1 }], reportSeq: 12 } },
      { alert: { id: 'a1', kind: AlertKind.ALERT_KIND_REPLAY, hostId: 'hv', principal: 'p', action: Action.ACTION_DESTROY, domain: 'd', reason: 'r', timeMs: 1, requestId: 'r1', hostSignature: { keyId: 'k', signature: new Uint8Array(64) } } },
      { hello: { role: v1.Role.ROLE_HYPERVISOR, hostId: 'hv', agentVersion: '0.1.0', incarnation: 77, lastDeliveredId: 10, nextMessageId: 11, timeMs: 3 } },
      { resync: { reason: v1.ResyncReason.RESYNC_REASON_EPOCH_CHANGED, bmcEpoch: 0xdeadbeef, lastDeliveredId: 4 } },
      { ack: { cumulativeId: 99, selectiveIds: [101, 103] } },
    ];
    for (const body of bodies) {
      const bytes = encodeBody(body);
      const decoded = decodeBody(bytes);
      expect(v1.Body.toObject(decoded, { longs: Number, bytes: Array, defaults: false })).toEqual(
        v1.Body.toObject(v1.Body.fromObject(body), { longs: Number, bytes: Array, defaults: false }),
      );
      expect(toHex(encodeBody(decoded))).toBe(toHex(bytes));
    }
  });

  it('keeps unknown fields at every level, so relays do not drop them', () => {
    const status = v1.StatusReport.encode({ hostId: 'hv', domains: [{ name: 'a' }] }).finish();
    // A newer peer added field 20 (string "zz") to DomainInfo and field 30 (varint 5) to StatusReport.
    const domainWithExtra = Uint8Array.from([...v1.DomainInfo.encode({ name: 'a' }).finish(), 0xa2, 0x01, 0x02, 0x7a, 0x7a]);
    const newerStatus = Uint8Array.from([
      ...v1.StatusReport.encode({ hostId: 'hv' }).finish(),
      0x32, domainWithExtra.length, ...domainWithExtra, // field 6 (domains)
      0xf0, 0x01, 0x05, // field 30, varint 5
    ]);
    expect(status.length).toBeLessThan(newerStatus.length);
    const decoded = v1.StatusReport.decode(newerStatus);
    expect(decoded.domains[0]?.name).toBe('a');
    expect(toHex(v1.StatusReport.encode(decoded).finish())).toBe(toHex(newerStatus));
  });

  it('throws only WireError on garbage', () => {
    expect(() => decodeBody(Uint8Array.from([0x0a, 0x05, 0x01]))).toThrow(WireError);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => onlyWireErrors(() => decodeBody(bytes))), { numRuns: 3000 });
  });

  it('rejects a wrongly typed field at encode time, naming it', () => {
    expect(() => encodeBody({ commandRequest: { domain: 5 as unknown as string } })).toThrow(/domain/);
  });

  it('names actions, states, outcomes and alert kinds the way policy files and the API do', () => {
    expect(actionName(Action.ACTION_LIST_DOMAINS)).toBe('list_domains');
    expect(parseActionName('shutdown')).toBe(Action.ACTION_SHUTDOWN);
    expect(parseActionName('SHUTDOWN')).toBe(Action.ACTION_SHUTDOWN);
    expect(parseActionName('unspecified')).toBeUndefined();
    expect(parseActionName('format_disk')).toBeUndefined();
    expect(domainStateName(DomainState.DOMAIN_STATE_SHUTOFF)).toBe('shutoff');
    expect(outcomeName(Outcome.OUTCOME_APPLIED)).toBe('applied');
    expect(alertKindName(AlertKind.ALERT_KIND_STALE_TIME_STEP)).toBe('stale_time_step');
  });
});
