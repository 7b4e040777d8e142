/**
 * What the handshake needs to know about LAN users: who may log in, at
 * which privilege, with which password. The user table (users/) implements
 * it; an entry exists only for a user that may log in on the LAN right now
 * (named, enabled, with a password and IPMI messaging on).
 */
import type { PrivilegeLevel } from '../commands/privilege.js';
import type { Secret } from '../config/secret.js';

export interface LanUser {
  /** IPMI user id (2..63; 1 is the null user, never a LAN user here). */
  readonly id: number;
  readonly name: string;
  /** The user's privilege limit on the LAN channel. */
  readonly privilege: PrivilegeLevel;
  readonly password: Secret;
}

export interface UserDirectory {
  lookup(name: string): LanUser | undefined;
}

/** A fixed directory (tests, embedding). */
export function staticUserDirectory(users: readonly LanUser[]): UserDirectory {
  const byName = new Map(users.map((u) => [u.name, u]));
  return { lookup: (name) => byName.get(name) };
}
