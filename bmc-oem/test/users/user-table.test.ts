import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Privilege } from '../../src/commands/privilege.js';
import type { UserConfig } from '../../src/config/config-types.js';
import { Secret } from '../../src/config/secret.js';
import { getUserAccess, getUserName, setUserAccess, setUserName, setUserPassword } from '../../src/users/user-commands.js';
import { USERS_FILE, UserTable } from '../../src/users/user-table.js';
import { tempDir } from '../helpers/temp-dir.js';

function cfg(name: string, privilege: 2 | 3 | 4, password: string): UserConfig {
  const names = { 2: 'user', 3: 'operator', 4: 'administrator' } as const;
  return { name, privilege, privilegeName: names[privilege], password: new Secret(Buffer.from(password)), passwordFile: `/x/${name}` };
}
const field = (s: string, n: number): number[] => [...Buffer.concat([Buffer.from(s), Buffer.alloc(n)]).subarray(0, n)];
const ctx = { channel: 'lan' as const, privilege: Privilege.Administrator, lun: 0 };

describe('user table', () => {
  it('seeds ids 2.. from the config; id 1 is the fixed null user that never logs in', () => {
    const t = new UserTable({ maxUsers: 8, seed: [cfg('oper', 3, 'pw-oper'), cfg('admin', 4, 'pw-admin')] });
    expect(t.lookup('oper')).toMatchObject({ id: 2, privilege: 3 });
    expect(t.lookup('admin')).toMatchObject({ id: 3, privilege: 4 });
    expect(t.slot(1)?.name).toBe('');
    expect(t.setName(1, 'root')).toBe('fixed-name');
    expect(t.setEnabled(1, true)).toBe('fixed-name');
    expect(t.slot(9)).toBeUndefined();
  });

  it('an administrator creates a user over IPMI: name, password (16 or 20 bytes), privilege, enable; then it can log in', () => {
    const users = new UserTable({ maxUsers: 8, seed: [cfg('admin', 4, 'pw-admin')] });
    const deps = { users, lanChannel: 1 };
    expect(setUserName(deps, Uint8Array.of(4, ...field('bob', 16)), ctx).cc).toBe(0);
    expect(setUserName(deps, Uint8Array.of(5, ...field('bob', 16)), ctx).cc).toBe(0xcc); // duplicate
    expect(setUserName(deps, Uint8Array.of(5, ...field('b b', 16)), ctx).cc).toBe(0xcc); // not a valid name
    expect(setUserPassword(deps, Uint8Array.of(0x84, 0x02, ...field('bob-secret-20', 20)), ctx).cc).toBe(0);
    expect(users.lookup('bob')).toBeUndefined(); // disabled, no privilege yet
    expect(setUserAccess(deps, Uint8Array.of(0x91, 4, 3), ctx).cc).toBe(0);
    expect(setUserPassword(deps, Uint8Array.of(4, 0x01), ctx).cc).toBe(0); // enable
    expect(users.lookup('bob')).toMatchObject({ id: 4, privilege: 3 });
    expect(Buffer.from(users.lookup('bob')?.password.reveal() ?? []).toString()).toBe('bob-secret-20');
    // Test password: right, wrong, wrong size.
    expect(setUserPassword(deps, Uint8Array.of(0x84, 0x03, ...field('bob-secret-20', 20)), ctx).cc).toBe(0);
    expect(setUserPassword(deps, Uint8Array.of(0x84, 0x03, ...field('guess', 20)), ctx).cc).toBe(0x80);
    expect(setUserPassword(deps, Uint8Array.of(0x04, 0x03, ...field('guess', 20)), ctx).cc).toBe(0x81);
    expect(getUserName(deps, Uint8Array.of(4))).toEqual({ cc: 0, data: Uint8Array.from(field('bob', 16)) });
    // Get User Access: 8 ids, enabled (01b) with 2 enabled users, 1 fixed name, IPMI messaging + operator.
    expect(getUserAccess(deps, Uint8Array.of(1, 4))).toEqual({ cc: 0, data: Uint8Array.of(8, 0x42, 1, 0x13) });
    expect(setUserPassword(deps, Uint8Array.of(4, 0x00), ctx).cc).toBe(0); // disable
    expect(users.lookup('bob')).toBeUndefined();
    expect(getUserAccess(deps, Uint8Array.of(1, 4)).data?.[1]).toBe(0x81);
    // No access (0x0F) also keeps a user out.
    setUserPassword(deps, Uint8Array.of(4, 0x01), ctx);
    expect(setUserAccess(deps, Uint8Array.of(0x01, 4, 0x0f), ctx).cc).toBe(0);
    expect(users.lookup('bob')).toBeUndefined();
  });

  it('persists in users.json (0600); IPMI changes survive a restart; a config edit wins over them; removed config users go', () => {
    const dir = tempDir('bmc-users-');
    const a = new UserTable({ maxUsers: 8, seed: [cfg('oper', 3, 'pw-oper'), cfg('gone', 2, 'pw-gone')], stateDir: dir });
    expect(statSync(join(dir, USERS_FILE)).mode & 0o777).toBe(0o600);
    expect(a.setPassword(2, Buffer.from('changed-over-ipmi'))).toBe('ok');
    expect(a.setName(4, 'bob')).toBe('ok');
    // Restart with the same config: the IPMI change stays; "gone" is no longer configured.
    const b = new UserTable({ maxUsers: 8, seed: [cfg('oper', 3, 'pw-oper')], stateDir: dir });
    expect(Buffer.from(b.lookup('oper')?.password.reveal() ?? []).toString()).toBe('changed-over-ipmi');
    expect(b.lookup('gone')).toBeUndefined();
    expect(b.slot(4)?.name).toBe('bob');
    // The operator edits the config (new password file content): the config wins.
    const c = new UserTable({ maxUsers: 8, seed: [cfg('oper', 3, 'new-from-file')], stateDir: dir });
    expect(Buffer.from(c.lookup('oper')?.password.reveal() ?? []).toString()).toBe('new-from-file');
    expect(JSON.parse(readFileSync(join(dir, USERS_FILE), 'utf8')).version).toBe(1);
  });
});
