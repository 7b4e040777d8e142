/**
 * SEL commands (Storage NetFn, IPMI v2.0 §31): info, allocation info,
 * reserve, get / add / delete entry, clear, SEL time and its UTC offset.
 * Reading needs USER, changing needs OPERATOR (the spec's command table).
 */
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandResult } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import { SEL_RECORD_BYTES, type SelStore } from './sel-store.js';

export const NETFN_STORAGE = 0x0a;

export const SelCmd = {
  GetSelInfo: 0x40,
  GetSelAllocationInfo: 0x41,
  ReserveSel: 0x42,
  GetSelEntry: 0x43,
  AddSelEntry: 0x44,
  DeleteSelEntry: 0x46,
  ClearSel: 0x47,
  GetSelTime: 0x48,
  SetSelTime: 0x49,
  GetSelTimeUtcOffset: 0x5c,
  SetSelTimeUtcOffset: 0x5d,
} as const;

/** §31: "requested record not present", "reservation cancelled or invalid". */
const CC_NOT_PRESENT = 0xcb;
const CC_INVALID_RESERVATION = 0xc5;
const SEL_VERSION = 0x51;
/** Operation support: delete, reserve, get allocation info (no partial add). */
const SEL_OPERATIONS = 0x08 | 0x02 | 0x01;
const CLR = [0x43, 0x4c, 0x52] as const;

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function readU16(d: Uint8Array, at: number): number {
  return (d[at] ?? 0) | ((d[at + 1] ?? 0) << 8);
}

export function getSelInfo(sel: SelStore): CommandResult {
  return {
    cc: CompletionCode.Ok,
    data: Uint8Array.of(
      SEL_VERSION,
      ...u16(sel.entries.length),
      ...u16(Math.min(0xffff, sel.freeBytes)),
      ...u32(sel.lastAddTime),
      ...u32(sel.lastEraseTime),
      (sel.overflow ? 0x80 : 0) | SEL_OPERATIONS,
    ),
  };
}

export function getSelAllocationInfo(sel: SelStore): CommandResult {
  const free = sel.capacity - sel.entries.length;
  return { cc: CompletionCode.Ok, data: Uint8Array.of(...u16(sel.capacity), ...u16(SEL_RECORD_BYTES), ...u16(free), ...u16(free), SEL_RECORD_BYTES) };
}

export function getSelEntry(sel: SelStore, data: Uint8Array): CommandResult {
  if (data.length !== 6) return { cc: CompletionCode.RequestLengthInvalid };
  const reservation = readU16(data, 0);
  const id = readU16(data, 2);
  const offset = data[4] ?? 0;
  const count = data[5] ?? 0;
  // A reservation is needed only to read a record in pieces (§31.5).
  if (offset !== 0 && !sel.reservationValid(reservation)) return { cc: CC_INVALID_RESERVATION };
  const found = sel.find(id);
  if (found === undefined) return { cc: CC_NOT_PRESENT };
  if (offset >= SEL_RECORD_BYTES) return { cc: CompletionCode.ParameterOutOfRange };
  const end = count === 0xff ? SEL_RECORD_BYTES : Math.min(SEL_RECORD_BYTES, offset + count);
  return { cc: CompletionCode.Ok, data: Uint8Array.of(...u16(found.next), ...found.entry.bytes.subarray(offset, end)) };
}

export function addSelEntry(sel: SelStore, data: Uint8Array): CommandResult {
  if (data.length !== SEL_RECORD_BYTES) return { cc: CompletionCode.RequestLengthInvalid };
  const id = sel.add(data, false);
  return id === 'full' ? { cc: CompletionCode.OutOfSpace } : { cc: CompletionCode.Ok, data: Uint8Array.of(...u16(id)) };
}

export function deleteSelEntry(sel: SelStore, data: Uint8Array): CommandResult {
  if (data.length !== 4) return { cc: CompletionCode.RequestLengthInvalid };
  if (!sel.reservationValid(readU16(data, 0))) return { cc: CC_INVALID_RESERVATION };
  const id = sel.delete(readU16(data, 2));
  return id === undefined ? { cc: CC_NOT_PRESENT } : { cc: CompletionCode.Ok, data: Uint8Array.of(...u16(id)) };
}

export function clearSel(sel: SelStore, data: Uint8Array): CommandResult {
  if (data.length !== 6) return { cc: CompletionCode.RequestLengthInvalid };
  if (data[2] !== CLR[0] || data[3] !== CLR[1] || data[4] !== CLR[2]) return { cc: CompletionCode.InvalidDataField };
  if (!sel.reservationValid(readU16(data, 0))) return { cc: CC_INVALID_RESERVATION };
  const action = data[5] ?? 0;
  if (action === 0xaa) sel.clear();
  else if (action !== 0x00) return { cc: CompletionCode.InvalidDataField };
  return { cc: CompletionCode.Ok, data: Uint8Array.of(0x01) }; // erasure completed
}

export function registerSelCommands(registry: CommandRegistry, store: SelStore): void {
  const sel = (): SelStore => store;
  const reg = (name: string, cmd: number, privilege: (typeof Privilege)[keyof typeof Privilege], handler: (data: Uint8Array) => CommandResult): void =>
    registry.register({ name, netfn: NETFN_STORAGE, cmd, privilege, channel: 'both', handler: (_ctx, data) => handler(data) });
  const none = (f: () => CommandResult) => (data: Uint8Array): CommandResult => (data.length === 0 ? f() : { cc: CompletionCode.RequestLengthInvalid });
  reg('get-sel-info', SelCmd.GetSelInfo, Privilege.User, none(() => getSelInfo(sel())));
  reg('get-sel-allocation-info', SelCmd.GetSelAllocationInfo, Privilege.User, none(() => getSelAllocationInfo(sel())));
  reg('reserve-sel', SelCmd.ReserveSel, Privilege.User, none(() => ({ cc: CompletionCode.Ok, data: Uint8Array.of(...u16(sel().reserve())) })));
  reg('get-sel-entry', SelCmd.GetSelEntry, Privilege.User, (d) => getSelEntry(sel(), d));
  reg('add-sel-entry', SelCmd.AddSelEntry, Privilege.Operator, (d) => addSelEntry(sel(), d));
  reg('delete-sel-entry', SelCmd.DeleteSelEntry, Privilege.Operator, (d) => deleteSelEntry(sel(), d));
  reg('clear-sel', SelCmd.ClearSel, Privilege.Operator, (d) => clearSel(sel(), d));
  reg('get-sel-time', SelCmd.GetSelTime, Privilege.User, none(() => ({ cc: CompletionCode.Ok, data: Uint8Array.of(...u32(sel().time())) })));
  reg('set-sel-time', SelCmd.SetSelTime, Privilege.Operator, (d) => {
    if (d.length !== 4) return { cc: CompletionCode.RequestLengthInvalid };
    sel().setTime(((d[0] ?? 0) | ((d[1] ?? 0) << 8) | ((d[2] ?? 0) << 16) | ((d[3] ?? 0) << 24)) >>> 0);
    return { cc: CompletionCode.Ok };
  });
  reg('get-sel-time-utc-offset', SelCmd.GetSelTimeUtcOffset, Privilege.User, none(() => ({ cc: CompletionCode.Ok, data: Uint8Array.of(...u16(sel().utcOffsetMinutes & 0xffff)) })));
  reg('set-sel-time-utc-offset', SelCmd.SetSelTimeUtcOffset, Privilege.Operator, (d) => {
    if (d.length !== 2) return { cc: CompletionCode.RequestLengthInvalid };
    let minutes = readU16(d, 0);
    if (minutes === 0x07ff) {
      sel().setUtcOffsetMinutes(0x7ff); // "unspecified"
      return { cc: CompletionCode.Ok };
    }
    if (minutes & 0x8000) minutes -= 0x10000;
    if (minutes < -1440 || minutes > 1440) return { cc: CompletionCode.ParameterOutOfRange };
    sel().setUtcOffsetMinutes(minutes);
    return { cc: CompletionCode.Ok };
  });
}
