/**
 * FRU inventory commands (Storage NetFn, IPMI v2.0 §34): Get FRU Inventory
 * Area Info, Read FRU Data (USER) and Write FRU Data (ADMINISTRATOR), for
 * FRU device 0 (the BMC's own inventory, FruStore).
 */
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandResult } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import { NETFN_STORAGE } from '../sel/sel-commands.js';
import type { FruStore } from './fru-store.js';

export const FruCmd = { GetFruInventoryAreaInfo: 0x10, ReadFruData: 0x11, WriteFruData: 0x12 } as const;

/** "Requested sensor, data, or record not present" (a FRU device we do not have). */
const CC_NOT_PRESENT = 0xcb;
/** Largest read answered at once: it must fit an IPMI LAN message comfortably. */
const MAX_READ = 64;

export function getFruInventoryAreaInfo(fru: FruStore, data: Uint8Array): CommandResult {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  if (data[0] !== 0) return { cc: CC_NOT_PRESENT };
  // Bit 0 of the last byte clear: accessed by bytes, not words.
  return { cc: CompletionCode.Ok, data: Uint8Array.of(fru.size & 0xff, fru.size >>> 8, 0x00) };
}

export function readFruData(fru: FruStore, data: Uint8Array): CommandResult {
  if (data.length !== 4) return { cc: CompletionCode.RequestLengthInvalid };
  if (data[0] !== 0) return { cc: CC_NOT_PRESENT };
  const offset = (data[1] ?? 0) | ((data[2] ?? 0) << 8);
  const count = data[3] ?? 0;
  if (offset >= fru.size) return { cc: CompletionCode.ParameterOutOfRange };
  const out = fru.read(offset, Math.min(count, MAX_READ));
  return { cc: CompletionCode.Ok, data: Uint8Array.of(out.length, ...out) };
}

export function writeFruData(fru: FruStore, data: Uint8Array): CommandResult {
  if (data.length < 4) return { cc: CompletionCode.RequestLengthInvalid };
  if (data[0] !== 0) return { cc: CC_NOT_PRESENT };
  const offset = (data[1] ?? 0) | ((data[2] ?? 0) << 8);
  if (offset >= fru.size) return { cc: CompletionCode.ParameterOutOfRange };
  const n = fru.write(offset, data.subarray(3));
  return { cc: CompletionCode.Ok, data: Uint8Array.of(Math.min(0xff, n)) };
}

export function registerFruCommands(registry: CommandRegistry, fru: FruStore): void {
  registry.register({ name: 'get-fru-inventory-area-info', netfn: NETFN_STORAGE, cmd: FruCmd.GetFruInventoryAreaInfo, privilege: Privilege.User, channel: 'both', handler: (_c, d) => getFruInventoryAreaInfo(fru, d) });
  registry.register({ name: 'read-fru-data', netfn: NETFN_STORAGE, cmd: FruCmd.ReadFruData, privilege: Privilege.User, channel: 'both', handler: (_c, d) => readFruData(fru, d) });
  registry.register({ name: 'write-fru-data', netfn: NETFN_STORAGE, cmd: FruCmd.WriteFruData, privilege: Privilege.Administrator, channel: 'both', handler: (_c, d) => writeFruData(fru, d) });
}
