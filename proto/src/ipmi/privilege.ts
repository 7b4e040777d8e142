/** Session privilege levels, IPMI v2.0 §6.8 and Table 22-19 (Set Session Privilege Level). */
import { WireError } from '../errors.js';

export const Privilege = {
  /** Only in Open Session Request / Set Session Privilege: "highest the user may have" / "no change". */
  HIGHEST: 0x00,
  CALLBACK: 0x01,
  USER: 0x02,
  OPERATOR: 0x03,
  ADMINISTRATOR: 0x04,
  OEM: 0x05,
  NO_ACCESS: 0x0f,
} as const;

export type PrivilegeLevel = 1 | 2 | 3 | 4 | 5;

const NAMES: Record<string, PrivilegeLevel> = {
  callback: 1,
  user: 2,
  operator: 3,
  administrator: 4,
  admin: 4,
  oem: 5,
};

/** Parses `user`, `operator`, `administrator` (also `admin`), case-insensitive. */
export function parsePrivilege(name: string): PrivilegeLevel {
  const level = NAMES[name.trim().toLowerCase()];
  if (level === undefined) throw new WireError('ERR_BAD_FIELD', `unknown privilege level "${name}" (callback, user, operator, administrator, oem)`);
  return level;
}

export function privilegeName(level: number): string {
  switch (level) {
    case 1:
      return 'callback';
    case 2:
      return 'user';
    case 3:
      return 'operator';
    case 4:
      return 'administrator';
    case 5:
      return 'oem';
    default:
      return `0x${level.toString(16).padStart(2, '0')}`;
  }
}
