import { Action, AlertKind } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/policy/policy-decision.js';
import { compilePolicy, globToRegExp } from '../src/policy/policy.js';
import { makePolicyJson, makePrincipals } from './helpers/keys.js';

const principals = makePrincipals();
const policy = compilePolicy(makePolicyJson(principals));

describe('policy decisions', () => {
  it('allows a permitted action on a matching domain with a 1-of-1 challenge by the requester', () => {
    expect(decide(policy, 'alice', Action.ACTION_START, 'web-1')).toEqual({ allowed: true, challenge: true, approvalsRequired: 1, approvers: ['alice'] });
  });

  it('allows read-only actions without a challenge', () => {
    expect(decide(policy, 'alice', Action.ACTION_LIST_DOMAINS, '')).toMatchObject({ allowed: true, challenge: false });
    expect(decide(policy, 'alice', Action.ACTION_DOMAIN_INFO, 'db-1')).toMatchObject({ allowed: true, challenge: false });
  });

  it('denies an unknown principal with the unknown-principal alert kind', () => {
    expect(decide(policy, 'eve', Action.ACTION_START, 'web-1')).toMatchObject({ allowed: false, alertKind: AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL });
  });

  it('denies an action outside the roles, or a domain outside the patterns', () => {
    expect(decide(policy, 'alice', Action.ACTION_START, 'db-1')).toMatchObject({ allowed: false, alertKind: AlertKind.ALERT_KIND_ACTION_NOT_PERMITTED, reason: 'principal "alice" may not start on domain "db-1"' });
    const readOnly = compilePolicy(makePolicyJson(principals, { roles: { operator: { actions: ['start'], domains: ['web-*'] }, viewer: { actions: [], domains: [] }, admin: { actions: [], domains: [] } } }));
    expect(decide(readOnly, 'alice', Action.ACTION_DESTROY, 'web-1')).toMatchObject({ allowed: false, alertKind: AlertKind.ALERT_KIND_ACTION_NOT_PERMITTED });
    expect(decide(readOnly, 'alice', Action.ACTION_LIST_DOMAINS, '')).toMatchObject({ allowed: false });
  });

  it('requires k-of-n approvals where a rule covers the action and domain', () => {
    expect(decide(policy, 'bob', Action.ACTION_DESTROY, 'db-1')).toEqual({ allowed: true, challenge: true, approvalsRequired: 2, approvers: ['alice', 'bob', 'carol'] });
    expect(decide(policy, 'bob', Action.ACTION_DESTROY, 'web-1')).toMatchObject({ approvalsRequired: 1, approvers: ['bob'] });
    expect(decide(policy, 'bob', Action.ACTION_START, 'db-1')).toMatchObject({ approvalsRequired: 1 });
  });

  it('compiles shell globs', () => {
    expect(globToRegExp('web-*').test('web-12')).toBe(true);
    expect(globToRegExp('web-?').test('web-12')).toBe(false);
    expect(globToRegExp('db-[12]').test('db-2')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('policy validation names the field', () => {
  it.each([
    [{ version: 2 }, /policy\.version must be equal to constant/],
    [{ principals: { alice: { publicKeys: ['rsa:xx'], roles: [] } } }, /policy\.principals\.alice\.publicKeys\[0\] must match pattern/],
    [{ roles: { operator: { actions: ['launch'], domains: ['*'] } } }, /policy\.roles\.operator\.actions\[0\] must be one of "start"/],
    [{ approvals: [{ actions: ['destroy'], required: 3, approvers: ['alice', 'bob'] }] }, /policy\.approvals\[0\]\.required is 3 but only 2 distinct approver/],
    [{ approvals: [{ actions: ['destroy'], required: 1, approvers: ['zed'] }] }, /policy\.approvals\[0\]\.approvers\[0\] names principal "zed"/],
    [{ readOnlyActions: ['destroy'] }, /policy\.readOnlyActions\[0\] must be one of "list_domains", "domain_info"/],
    [{ extra: true }, /policy\.extra is not a known field/],
  ])('rejects %j', (override, message) => {
    expect(() => compilePolicy(makePolicyJson(principals, override))).toThrow(message);
  });

  it('reports a role that is not defined', () => {
    const json = makePolicyJson(principals);
    (json.principals as Record<string, { roles: string[] }>).alice!.roles = ['ghost'];
    expect(() => compilePolicy(json)).toThrow(/policy\.principals\.alice\.roles\[0\] names role "ghost"/);
  });
});
