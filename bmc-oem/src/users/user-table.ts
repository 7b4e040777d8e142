/**
 * The BMC's user table: IPMI user ids 1..maxUsers, each with a name, a
 * password, a privilege limit on the LAN channel, an enabled flag and the
 * channel access bits (IPMI messaging, link authentication, callback only).
 * Id 1 is the null user with a fixed empty name; it can never log in.
 *
 * Where it comes from: the configured users seed it; with a state directory
 * the table is kept in `users.json` (0600: RAKP needs the passwords
 * themselves, so they are stored as they are) and changes made over IPMI
 * survive restarts. At start each configured user is matched by name: a
 * user whose configured privilege or password file changed since it was
 * last applied gets the configured values again (the operator edited the
 * config), otherwise the stored slot wins (an administrator may have
 * changed it over IPMI). Configured users no longer in the config are
 * removed; users created over IPMI are left alone.
 */
import { createHash } from 'node:crypto';
import { isPrivilegeLevel, Privilege, type PrivilegeLevel } from '../commands/privilege.js';
import type { UserConfig } from '../config/config-types.js';
import { Secret } from '../config/secret.js';
import type { LanUser, UserDirectory } from '../rmcp/user-directory.js';
import { expectBool, expectInt, expectObject, expectString, JsonStateFile } from '../state/state-file.js';

/** Set User Access privilege value "no access" (IPMI v2.0 §22.26). */
export const NO_ACCESS = 0x0f;
export const NULL_USER_ID = 1;
export const MAX_NAME_BYTES = 16;
export const MAX_PASSWORD_BYTES = 20;

export interface UserSlot {
  readonly id: number;
  name: string;
  enabled: boolean;
  /** Privilege limit on the LAN channel (1..5), or NO_ACCESS. */
  privilege: number;
  ipmiMessaging: boolean;
  linkAuth: boolean;
  callbackOnly: boolean;
  password: Secret | undefined;
  /** Set for slots that come from the config: a digest of what was applied, to notice config edits. */
  configFingerprint: string | undefined;
}

export type UserChange = 'ok' | 'no-such-user' | 'fixed-name' | 'duplicate-name' | 'invalid-name';

export interface UserTableLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

interface StoredSlot {
  id: number;
  name: string;
  enabled: boolean;
  privilege: number;
  ipmiMessaging: boolean;
  linkAuth: boolean;
  callbackOnly: boolean;
  password?: string;
  configFingerprint?: string;
}

interface StoredDoc {
  version: 1;
  users: StoredSlot[];
}

export const USERS_FILE = 'users.json';

function fingerprint(u: UserConfig): string {
  const h = createHash('sha256');
  h.update(`${u.name}\u0000${u.privilege}\u0000`);
  h.update(u.password.reveal());
  return h.digest('hex');
}

/** Printable ASCII without spaces, 1..16 bytes: what the config accepts and what RAKP can carry unambiguously. */
export function validUserName(name: string): boolean {
  return /^[\x21-\x7e]{1,16}$/.test(name);
}

function validateStored(raw: unknown): StoredDoc {
  const doc = expectObject(raw, 'users.json');
  if (doc.version !== 1 || !Array.isArray(doc.users)) throw new Error('expected {"version":1,"users":[...]}');
  const users = doc.users.map((u: unknown, i) => {
    const o = expectObject(u, `users[${i}]`);
    const slot: StoredSlot = {
      id: expectInt(o.id, `users[${i}].id`, 2, 63),
      name: expectString(o.name, `users[${i}].name`, MAX_NAME_BYTES),
      enabled: expectBool(o.enabled, `users[${i}].enabled`),
      privilege: expectInt(o.privilege, `users[${i}].privilege`, 1, NO_ACCESS),
      ipmiMessaging: expectBool(o.ipmiMessaging, `users[${i}].ipmiMessaging`),
      linkAuth: expectBool(o.linkAuth, `users[${i}].linkAuth`),
      callbackOnly: expectBool(o.callbackOnly, `users[${i}].callbackOnly`),
    };
    if (slot.name !== '' && !validUserName(slot.name)) throw new Error(`users[${i}].name is not a valid user name`);
    if (o.password !== undefined) {
      const pw = Buffer.from(expectString(o.password, `users[${i}].password`, 40), 'base64');
      if (pw.length > MAX_PASSWORD_BYTES) throw new Error(`users[${i}].password is longer than ${MAX_PASSWORD_BYTES} bytes`);
      slot.password = pw.toString('base64');
    }
    if (o.configFingerprint !== undefined) slot.configFingerprint = expectString(o.configFingerprint, `users[${i}].configFingerprint`, 64);
    return slot;
  });
  return { version: 1, users };
}

export class UserTable implements UserDirectory {
  readonly maxUsers: number;
  readonly #slots = new Map<number, UserSlot>();
  readonly #file: JsonStateFile<StoredDoc>;
  readonly #logger: UserTableLogger | undefined;

  constructor(o: { maxUsers: number; seed: readonly UserConfig[]; stateDir?: string; logger?: UserTableLogger }) {
    this.maxUsers = o.maxUsers;
    this.#logger = o.logger;
    this.#file = new JsonStateFile(o.stateDir, USERS_FILE, validateStored);
    const stored = this.#file.load();
    for (const s of stored?.users ?? []) {
      if (s.id > this.maxUsers) {
        this.#logger?.warn({ id: s.id, maxUsers: this.maxUsers }, 'stored user id beyond maxUsers ignored');
        continue;
      }
      this.#slots.set(s.id, {
        ...s,
        password: s.password === undefined ? undefined : new Secret(Buffer.from(s.password, 'base64')),
        configFingerprint: s.configFingerprint,
      });
    }
    if (this.#applyConfig(o.seed)) this.#save();
  }

  /** Applies the configured users (see the file comment); true when anything changed. */
  #applyConfig(seed: readonly UserConfig[]): boolean {
    let changed = false;
    const configured = new Set(seed.map((u) => u.name));
    for (const slot of [...this.#slots.values()]) {
      if (slot.configFingerprint !== undefined && !configured.has(slot.name)) {
        this.#slots.delete(slot.id);
        this.#logger?.info({ user: slot.name, id: slot.id }, 'user removed from the config: deleted');
        changed = true;
      }
    }
    for (const u of seed) {
      const fp = fingerprint(u);
      const existing = this.#byName(u.name);
      if (existing !== undefined && existing.configFingerprint === fp) continue;
      const slot = existing ?? this.#freeSlot();
      if (slot === undefined) throw new RangeError(`no free user id for "${u.name}" (maxUsers ${this.maxUsers})`);
      Object.assign(slot, {
        name: u.name,
        enabled: true,
        privilege: u.privilege,
        ipmiMessaging: true,
        linkAuth: true,
        callbackOnly: false,
        password: u.password,
        configFingerprint: fp,
      });
      this.#slots.set(slot.id, slot);
      if (existing !== undefined) this.#logger?.info({ user: u.name, id: slot.id }, 'user settings applied from the config (changed since last start)');
      changed = true;
    }
    return changed;
  }

  #byName(name: string): UserSlot | undefined {
    for (const s of this.#slots.values()) if (s.name === name) return s;
    return undefined;
  }

  #freeSlot(): UserSlot | undefined {
    for (let id = NULL_USER_ID + 1; id <= this.maxUsers; id++) {
      const s = this.#slots.get(id);
      if (s === undefined) return this.#blank(id);
      if (s.name === '' && s.password === undefined) return s;
    }
    return undefined;
  }

  /**
   * An unused id: no name, no password, disabled, no access. IPMI messaging
   * is on, so a user an administrator creates (name, password, privilege,
   * enable) can log in without a separate Set User Access for the bit;
   * without a privilege it cannot anyway.
   */
  #blank(id: number): UserSlot {
    return { id, name: '', enabled: false, privilege: NO_ACCESS, ipmiMessaging: id !== NULL_USER_ID, linkAuth: false, callbackOnly: false, password: undefined, configFingerprint: undefined };
  }

  #save(): void {
    const out: StoredSlot[] = [...this.#slots.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({
        id: s.id,
        name: s.name,
        enabled: s.enabled,
        privilege: s.privilege,
        ipmiMessaging: s.ipmiMessaging,
        linkAuth: s.linkAuth,
        callbackOnly: s.callbackOnly,
        ...(s.password === undefined ? {} : { password: Buffer.from(s.password.reveal()).toString('base64') }),
        ...(s.configFingerprint === undefined ? {} : { configFingerprint: s.configFingerprint }),
      }));
    this.#file.save({ version: 1, users: out });
  }

  /** UserDirectory: a user that may log in on the LAN now. */
  lookup(name: string): LanUser | undefined {
    const s = this.#byName(name);
    if (s === undefined || s.id === NULL_USER_ID || !s.enabled || !s.ipmiMessaging || s.password === undefined || s.callbackOnly) return undefined;
    if (!isPrivilegeLevel(s.privilege) || s.privilege < Privilege.User) return undefined;
    return { id: s.id, name: s.name, privilege: s.privilege as PrivilegeLevel, password: s.password };
  }

  /** The slot of a user id (a blank one for an unused id in range), or undefined when out of range. */
  slot(id: number): Readonly<UserSlot> | undefined {
    if (!Number.isInteger(id) || id < NULL_USER_ID || id > this.maxUsers) return undefined;
    return this.#slots.get(id) ?? this.#blank(id);
  }

  enabledCount(): number {
    let n = 0;
    for (const s of this.#slots.values()) if (s.enabled && s.id !== NULL_USER_ID) n++;
    return n;
  }

  #edit(id: number, change: (s: UserSlot) => UserChange): UserChange {
    if (!Number.isInteger(id) || id < NULL_USER_ID || id > this.maxUsers) return 'no-such-user';
    const slot = this.#slots.get(id) ?? this.#blank(id);
    const draft = { ...slot };
    const result = change(draft);
    if (result !== 'ok') return result;
    // Persist first: a change that cannot be stored is not made (the handler answers 0xFF).
    const before = this.#slots.get(id);
    this.#slots.set(id, draft);
    try {
      this.#save();
    } catch (err) {
      if (before === undefined) this.#slots.delete(id);
      else this.#slots.set(id, before);
      throw err;
    }
    return 'ok';
  }

  setName(id: number, name: string): UserChange {
    return this.#edit(id, (s) => {
      if (s.id === NULL_USER_ID) return 'fixed-name';
      if (name !== '' && !validUserName(name)) return 'invalid-name';
      const other = name === '' ? undefined : this.#byName(name);
      if (other !== undefined && other.id !== s.id) return 'duplicate-name';
      if (s.name !== name) s.configFingerprint = undefined; // renamed over IPMI: no longer the configured user
      s.name = name;
      return 'ok';
    });
  }

  setPassword(id: number, password: Uint8Array): UserChange {
    return this.#edit(id, (s) => {
      if (s.id === NULL_USER_ID) return 'fixed-name';
      s.password = password.length === 0 ? undefined : new Secret(password);
      return 'ok';
    });
  }

  setEnabled(id: number, enabled: boolean): UserChange {
    return this.#edit(id, (s) => {
      if (s.id === NULL_USER_ID && enabled) return 'fixed-name';
      s.enabled = enabled;
      return 'ok';
    });
  }

  setAccess(id: number, access: { privilege: number; ipmiMessaging?: boolean; linkAuth?: boolean; callbackOnly?: boolean }): UserChange {
    return this.#edit(id, (s) => {
      s.privilege = access.privilege;
      if (access.ipmiMessaging !== undefined) s.ipmiMessaging = access.ipmiMessaging;
      if (access.linkAuth !== undefined) s.linkAuth = access.linkAuth;
      if (access.callbackOnly !== undefined) s.callbackOnly = access.callbackOnly;
      return 'ok';
    });
  }

  /** Compares a password in constant time; false for a user without one. */
  testPassword(id: number, password: Uint8Array): boolean {
    const s = this.#slots.get(id);
    if (s?.password === undefined) return false;
    const a = Buffer.alloc(MAX_PASSWORD_BYTES);
    const b = Buffer.alloc(MAX_PASSWORD_BYTES);
    Buffer.from(s.password.reveal()).copy(a);
    Buffer.from(password).copy(b);
    let diff = 0;
    for (let i = 0; i < MAX_PASSWORD_BYTES; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
    a.fill(0);
    b.fill(0);
    return diff === 0;
  }
}
