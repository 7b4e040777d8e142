/**
 * LAN configuration parameters (IPMI v2.0 §23.1-23.2, table 23-4) of the
 * LAN channel. What can be read: the addresses the daemon really uses
 * (NetworkFacts), the cipher suites it offers and their privilege limits.
 * What an administrator can change is only what bmc-oem can apply at once:
 * "set in progress" and the highest privilege per cipher suite
 * (parameter 24, kept in `lan.json`). Addresses, VLAN and the like are
 * read-only here (cc 0x82): the listen address is the daemon's config.
 */
import { Privilege, type PrivilegeLevel } from '../commands/privilege.js';
import { expectInt, expectObject, JsonStateFile } from '../state/state-file.js';
import { ipv4Bytes, macBytes, type NetworkFacts } from './network-facts.js';

export const LanParam = {
  SetInProgress: 0,
  AuthTypeSupport: 1,
  AuthTypeEnables: 2,
  IpAddress: 3,
  IpAddressSource: 4,
  MacAddress: 5,
  SubnetMask: 6,
  Ipv4HeaderParams: 7,
  DefaultGateway: 12,
  DefaultGatewayMac: 13,
  BackupGateway: 14,
  BackupGatewayMac: 15,
  VlanId: 20,
  VlanPriority: 21,
  CipherSuiteEntrySupport: 22,
  CipherSuiteEntries: 23,
  CipherSuitePrivileges: 24,
} as const;

export type LanReadResult = { ok: true; data: Uint8Array } | { ok: false; reason: 'unsupported' };
export type LanWriteResult = 'ok' | 'unsupported' | 'read-only' | 'length' | 'invalid';

const IP_SOURCE_STATIC = 0x01;
/** Parameter 7: TTL 64, "don't fragment", precedence 0 / TOS 0x10 (the spec's defaults). */
const IPV4_HEADER = [0x40, 0x40, 0x10] as const;

interface StoredLan {
  version: 1;
  /** Highest privilege per cipher suite id, as configured over parameter 24. */
  suitePrivileges: Record<string, number>;
}

export const LAN_FILE = 'lan.json';

function validate(raw: unknown): StoredLan {
  const o = expectObject(raw, 'lan.json');
  if (o.version !== 1) throw new Error('expected "version": 1');
  const sp = expectObject(o.suitePrivileges, 'suitePrivileges');
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(sp)) out[k] = expectInt(v, `suitePrivileges.${k}`, Privilege.Callback, Privilege.Oem);
  return { version: 1, suitePrivileges: out };
}

export class LanConfig {
  readonly #file: JsonStateFile<StoredLan>;
  readonly #suites: readonly number[];
  readonly #facts: () => NetworkFacts;
  readonly #suitePrivileges = new Map<number, PrivilegeLevel>();
  #setInProgress = 0;

  constructor(o: { suites: readonly number[]; facts: () => NetworkFacts; stateDir?: string }) {
    this.#suites = o.suites;
    this.#facts = o.facts;
    this.#file = new JsonStateFile(o.stateDir, LAN_FILE, validate);
    for (const [k, v] of Object.entries(this.#file.load()?.suitePrivileges ?? {})) {
      if (this.#suites.includes(Number(k))) this.#suitePrivileges.set(Number(k), v as PrivilegeLevel);
    }
  }

  /** The highest privilege a session on `suite` may have (administrator unless limited). */
  suiteLimit(suite: number): PrivilegeLevel {
    return this.#suitePrivileges.get(suite) ?? Privilege.Administrator;
  }

  read(param: number): LanReadResult {
    const f = this.#facts();
    const ok = (bytes: readonly number[]): LanReadResult => ({ ok: true, data: Uint8Array.from(bytes) });
    switch (param) {
      case LanParam.SetInProgress:
        return ok([this.#setInProgress]);
      case LanParam.AuthTypeSupport:
        return ok([0x00]); // no IPMI v1.5 authentication type (RMCP+ only)
      case LanParam.AuthTypeEnables:
        return ok([0, 0, 0, 0, 0]);
      case LanParam.IpAddress:
        return ok(ipv4Bytes(f.ipv4));
      case LanParam.IpAddressSource:
        return ok([IP_SOURCE_STATIC]);
      case LanParam.MacAddress:
        return ok(macBytes(f.mac));
      case LanParam.SubnetMask:
        return ok(ipv4Bytes(f.netmask));
      case LanParam.Ipv4HeaderParams:
        return ok(IPV4_HEADER);
      case LanParam.DefaultGateway:
        return ok(ipv4Bytes(f.gateway));
      case LanParam.DefaultGatewayMac:
        return ok(macBytes(f.gatewayMac));
      case LanParam.BackupGateway:
        return ok([0, 0, 0, 0]);
      case LanParam.BackupGatewayMac:
        return ok([0, 0, 0, 0, 0, 0]);
      case LanParam.VlanId:
        return ok([0x00, 0x00]); // VLAN disabled
      case LanParam.VlanPriority:
        return ok([0x00]);
      case LanParam.CipherSuiteEntrySupport:
        return ok([this.#suites.length]);
      case LanParam.CipherSuiteEntries:
        return ok([0x00, ...this.#suites]);
      case LanParam.CipherSuitePrivileges:
        return ok(this.#privilegeNibbles());
      default:
        return { ok: false, reason: 'unsupported' };
    }
  }

  /**
   * Parameter 24: a reserved byte, then 4 bits for each of cipher suite ids
   * 0..15, indexed by suite id (as real BMCs fill it and FreeIPMI and
   * ipmitool read it: "XXXa..." for suite 3 at administrator); 0 marks a suite
   * not offered. Suite 17 has no nibble: its limit stays administrator.
   */
  #privilegeNibbles(): number[] {
    const nibbles = Array.from({ length: 16 }, (_, id) => (this.#suites.includes(id) ? this.suiteLimit(id) : 0));
    const out = [0x00];
    for (let i = 0; i < 16; i += 2) out.push(((nibbles[i + 1] ?? 0) << 4) | (nibbles[i] ?? 0));
    return out;
  }

  write(param: number, data: Uint8Array): LanWriteResult {
    switch (param) {
      case LanParam.SetInProgress: {
        if (data.length !== 1) return 'length';
        const v = (data[0] ?? 0) & 0x03;
        if (v === 0x03) return 'invalid';
        // 2 = "commit write": every change here applies at once, so a commit is "set complete".
        this.#setInProgress = v === 0x01 ? 0x01 : 0x00;
        return 'ok';
      }
      case LanParam.CipherSuitePrivileges: {
        if (data.length !== 9) return 'length';
        const next = new Map<number, PrivilegeLevel>();
        for (const suite of this.#suites) {
          if (suite > 15) continue; // no nibble for it
          const byte = data[1 + (suite >> 1)] ?? 0;
          const level = suite % 2 === 0 ? byte & 0x0f : byte >> 4;
          if (level < Privilege.Callback || level > Privilege.Oem) return 'invalid';
          next.set(suite, level as PrivilegeLevel);
        }
        for (const [suite, level] of this.#suitePrivileges) if (!next.has(suite)) next.set(suite, level);
        const suitePrivileges: Record<string, number> = {};
        for (const [k, v] of next) suitePrivileges[String(k)] = v;
        this.#file.save({ version: 1, suitePrivileges });
        this.#suitePrivileges.clear();
        for (const [k, v] of next) this.#suitePrivileges.set(k, v);
        return 'ok';
      }
      default:
        return this.read(param).ok ? 'read-only' : 'unsupported';
    }
  }
}
