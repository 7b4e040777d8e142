/**
 * IPMI privilege levels (IPMI v2.0 §6.8, table 6-3 and §22.13), as the
 * command table names them. The values are proto's wire constants (used by
 * Set Session Privilege Level, RAKP 1 and Open Session), so they order
 * naturally: a higher number may do more.
 */
import { Privilege as Wire, type PrivilegeLevel as WirePrivilegeLevel } from '@backchannel/proto';

export const Privilege = {
  Callback: Wire.CALLBACK,
  User: Wire.USER,
  Operator: Wire.OPERATOR,
  Administrator: Wire.ADMINISTRATOR,
  Oem: Wire.OEM,
} as const;

export type PrivilegeLevel = WirePrivilegeLevel;

/** The names the config file and `--user` accept. */
export const PRIVILEGE_NAMES = ['user', 'operator', 'administrator'] as const;
export type PrivilegeName = (typeof PRIVILEGE_NAMES)[number];

const BY_NAME: Record<PrivilegeName, PrivilegeLevel> = {
  user: Privilege.User,
  operator: Privilege.Operator,
  administrator: Privilege.Administrator,
};

export function privilegeFromName(name: PrivilegeName): PrivilegeLevel {
  return BY_NAME[name];
}

export function privilegeName(level: number): string {
  switch (level) {
    case Privilege.Callback:
      return 'callback';
    case Privilege.User:
      return 'user';
    case Privilege.Operator:
      return 'operator';
    case Privilege.Administrator:
      return 'administrator';
    case Privilege.Oem:
      return 'oem';
    default:
      return `unknown(${level})`;
  }
}

export function isPrivilegeLevel(value: number): value is PrivilegeLevel {
  return Number.isInteger(value) && value >= Privilege.Callback && value <= Privilege.Oem;
}
