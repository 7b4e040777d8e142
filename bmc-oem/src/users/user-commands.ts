/**
 * User management over IPMI (IPMI v2.0 §22.26-22.30): Get/Set User Access,
 * Get/Set User Name, Set User Password (enable, disable, set, test). All of
 * it is for administrators only on the LAN, reads included: a list of user
 * names is what an attacker needs to collect RAKP 2 HMACs. Passwords never
 * reach a log: handlers get them as bytes and hand them to the table.
 */
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandContext, CommandResult } from '../commands/command-types.js';
import { NETFN_APP } from '../commands/device-commands.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import { MAX_NAME_BYTES, MAX_PASSWORD_BYTES, NO_ACCESS, NULL_USER_ID, type UserChange, type UserTable } from './user-table.js';

export const UserCmd = {
  SetUserAccess: 0x43,
  GetUserAccess: 0x44,
  SetUserName: 0x45,
  GetUserName: 0x46,
  SetUserPassword: 0x47,
} as const;

/** Set User Password: "password test failed" (§22.30). */
const CC_PASSWORD_MISMATCH = 0x80;
/** Set User Password: "wrong password size" for the test operation. */
const CC_PASSWORD_SIZE = 0x81;
const CURRENT_CHANNEL = 0x0e;

export type UserChangeKind = 'name' | 'password' | 'enable' | 'disable' | 'access';

export interface UserCommandDeps {
  users: UserTable;
  /** The LAN channel number; user access is kept for it (and 0x0E = this channel). */
  lanChannel: number;
  /** Told after each change (for the SEL audit record); never given a password. */
  onChange?: (what: UserChangeKind, userId: number, ctx: CommandContext) => void;
}

function changeResult(r: UserChange): CommandResult {
  switch (r) {
    case 'ok':
      return { cc: CompletionCode.Ok };
    case 'no-such-user':
    case 'fixed-name':
    case 'duplicate-name':
    case 'invalid-name':
      return { cc: CompletionCode.InvalidDataField };
  }
}

function channelOk(channel: number, lanChannel: number): boolean {
  return channel === lanChannel || channel === CURRENT_CHANNEL;
}

export function getUserAccess(deps: UserCommandDeps, data: Uint8Array): CommandResult {
  if (data.length !== 2) return { cc: CompletionCode.RequestLengthInvalid };
  const channel = (data[0] ?? 0) & 0x0f;
  const id = (data[1] ?? 0) & 0x3f;
  const slot = deps.users.slot(id);
  if (!channelOk(channel, deps.lanChannel) || slot === undefined || id === 0) return { cc: CompletionCode.InvalidDataField };
  // Bits 7:6 of byte 2: 01b enabled, 10b disabled (via Set User Password).
  const enableStatus = slot.id === NULL_USER_ID ? 0x80 : slot.enabled ? 0x40 : 0x80;
  return {
    cc: CompletionCode.Ok,
    data: Uint8Array.of(
      deps.users.maxUsers & 0x3f,
      enableStatus | (deps.users.enabledCount() & 0x3f),
      1, // one user id with a fixed name: the null user
      (slot.callbackOnly ? 0x40 : 0) | (slot.linkAuth ? 0x20 : 0) | (slot.ipmiMessaging ? 0x10 : 0) | (slot.privilege & 0x0f),
    ),
  };
}

export function setUserAccess(deps: UserCommandDeps, data: Uint8Array, ctx?: CommandContext): CommandResult {
  if (data.length !== 3 && data.length !== 4) return { cc: CompletionCode.RequestLengthInvalid };
  const b0 = data[0] ?? 0;
  const id = (data[1] ?? 0) & 0x3f;
  const privilege = (data[2] ?? 0) & 0x0f;
  if (!channelOk(b0 & 0x0f, deps.lanChannel) || id === 0 || id === NULL_USER_ID) return { cc: CompletionCode.InvalidDataField };
  if (!(privilege >= Privilege.Callback && privilege <= Privilege.Oem) && privilege !== NO_ACCESS) return { cc: CompletionCode.InvalidDataField };
  const changeBits = (b0 & 0x80) !== 0;
  const r = deps.users.setAccess(id, {
    privilege,
    ...(changeBits ? { callbackOnly: (b0 & 0x40) !== 0, linkAuth: (b0 & 0x20) !== 0, ipmiMessaging: (b0 & 0x10) !== 0 } : {}),
  });
  if (r === 'ok' && ctx !== undefined) deps.onChange?.('access', id, ctx);
  return changeResult(r);
}

/** A name field: up to 16 bytes, NUL padded. */
function readName(bytes: Uint8Array): string | undefined {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  if (bytes.subarray(end).some((b) => b !== 0)) return undefined; // bytes after the padding started
  return Buffer.from(bytes.subarray(0, end)).toString('latin1');
}

export function setUserName(deps: UserCommandDeps, data: Uint8Array, ctx?: CommandContext): CommandResult {
  if (data.length !== 1 + MAX_NAME_BYTES) return { cc: CompletionCode.RequestLengthInvalid };
  const id = (data[0] ?? 0) & 0x3f;
  const name = readName(data.subarray(1));
  if (name === undefined) return { cc: CompletionCode.InvalidDataField };
  const r = deps.users.setName(id, name);
  if (r === 'ok' && ctx !== undefined) deps.onChange?.('name', id, ctx);
  return changeResult(r);
}

export function getUserName(deps: UserCommandDeps, data: Uint8Array): CommandResult {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const slot = deps.users.slot((data[0] ?? 0) & 0x3f);
  if (slot === undefined || (data[0] ?? 0) === 0) return { cc: CompletionCode.InvalidDataField };
  const out = new Uint8Array(MAX_NAME_BYTES);
  out.set(Buffer.from(slot.name, 'latin1').subarray(0, MAX_NAME_BYTES));
  return { cc: CompletionCode.Ok, data: out };
}

export function setUserPassword(deps: UserCommandDeps, data: Uint8Array, ctx?: CommandContext): CommandResult {
  if (data.length < 2) return { cc: CompletionCode.RequestLengthInvalid };
  const b0 = data[0] ?? 0;
  const id = b0 & 0x3f;
  const size = (b0 & 0x80) !== 0 ? MAX_PASSWORD_BYTES : 16;
  const operation = (data[1] ?? 0) & 0x03;
  if (deps.users.slot(id) === undefined || id === 0) return { cc: CompletionCode.InvalidDataField };
  switch (operation) {
    case 0:
    case 1: {
      if (data.length !== 2 && data.length !== 2 + size) return { cc: CompletionCode.RequestLengthInvalid };
      const enable = operation === 1;
      const r = deps.users.setEnabled(id, enable);
      if (r === 'ok' && ctx !== undefined) deps.onChange?.(enable ? 'enable' : 'disable', id, ctx);
      return changeResult(r);
    }
    case 2:
    case 3: {
      const field = data.subarray(2);
      if (operation === 3 && field.length !== size) return { cc: field.length === 16 || field.length === 20 ? CC_PASSWORD_SIZE : CompletionCode.RequestLengthInvalid };
      if (field.length !== size) return { cc: CompletionCode.RequestLengthInvalid };
      // The key is the password NUL padded to 20 bytes (§13.31): trailing NULs are padding.
      let end = field.length;
      while (end > 0 && field[end - 1] === 0) end--;
      const password = Uint8Array.from(field.subarray(0, end));
      try {
        if (operation === 3) return { cc: deps.users.testPassword(id, password) ? CompletionCode.Ok : CC_PASSWORD_MISMATCH };
        const r = deps.users.setPassword(id, password);
        if (r === 'ok' && ctx !== undefined) deps.onChange?.('password', id, ctx);
        return changeResult(r);
      } finally {
        password.fill(0);
      }
    }
    default:
      return { cc: CompletionCode.InvalidDataField };
  }
}

export function registerUserCommands(registry: CommandRegistry, deps: UserCommandDeps): void {
  const admin = (name: string, cmd: number, handler: (data: Uint8Array, ctx: CommandContext) => CommandResult): void =>
    registry.register({ name, netfn: NETFN_APP, cmd, privilege: Privilege.Administrator, channel: 'both', handler: (ctx, data) => handler(data, ctx) });
  admin('get-user-access', UserCmd.GetUserAccess, (d) => getUserAccess(deps, d));
  admin('set-user-access', UserCmd.SetUserAccess, (d, ctx) => setUserAccess(deps, d, ctx));
  admin('get-user-name', UserCmd.GetUserName, (d) => getUserName(deps, d));
  admin('set-user-name', UserCmd.SetUserName, (d, ctx) => setUserName(deps, d, ctx));
  admin('set-user-password', UserCmd.SetUserPassword, (d, ctx) => setUserPassword(deps, d, ctx));
}
