/**
 * The SDR repository (Storage NetFn, IPMI v2.0 §33) and sensor readings
 * (Sensor/Event NetFn, §35): Get SDR Repository Info, Reserve SDR
 * Repository, Get SDR, Get Sensor Reading, Get Sensor Thresholds and Get
 * Sensor Event Enable. The repository is read-only (no Add/Delete SDR): it
 * describes what the board has. All at USER privilege.
 */
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandResult } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import { NETFN_STORAGE } from '../sel/sel-commands.js';
import type { ThresholdSensorSpec } from './sdr-records.js';
import type { Sensor } from './sensors.js';

export const NETFN_SENSOR = 0x04;
export const SdrCmd = { GetSdrRepositoryInfo: 0x20, GetSdrRepositoryAllocationInfo: 0x21, ReserveSdrRepository: 0x22, GetSdr: 0x23 } as const;
export const SensorCmd = { GetSensorThresholds: 0x27, GetSensorEventEnable: 0x29, GetSensorReading: 0x2d } as const;

const CC_NOT_PRESENT = 0xcb;
const CC_INVALID_RESERVATION = 0xc5;
const SDR_REPOSITORY_VERSION = 0x51;
/** Operation support: reserve supported, no delete, no partial add, no allocation info. */
const SDR_OPERATIONS = 0x02;
const SCANNING_ENABLED = 0x40;
const READING_UNAVAILABLE = 0x20;

export class SdrRepository {
  #reservation = 0;

  constructor(
    readonly records: readonly Uint8Array[],
    readonly sensors: readonly Sensor[],
    /** When the repository was built (SEL clock seconds), its "most recent addition". */
    readonly builtAt: number,
  ) {}

  reserve(): number {
    this.#reservation = this.#reservation >= 0xffff ? 1 : this.#reservation + 1;
    return this.#reservation;
  }

  reservationValid(id: number): boolean {
    return id !== 0 && id === this.#reservation;
  }

  sensor(number: number): Sensor | undefined {
    return this.sensors.find((s) => s.number === number);
  }
}

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}

export function getSdrRepositoryInfo(repo: SdrRepository): CommandResult {
  const t = repo.builtAt;
  return {
    cc: CompletionCode.Ok,
    data: Uint8Array.of(SDR_REPOSITORY_VERSION, ...u16(repo.records.length), 0x00, 0x00, t & 0xff, (t >>> 8) & 0xff, (t >>> 16) & 0xff, t >>> 24, 0, 0, 0, 0, SDR_OPERATIONS),
  };
}

export function getSdr(repo: SdrRepository, data: Uint8Array): CommandResult {
  if (data.length !== 6) return { cc: CompletionCode.RequestLengthInvalid };
  const reservation = (data[0] ?? 0) | ((data[1] ?? 0) << 8);
  const id = (data[2] ?? 0) | ((data[3] ?? 0) << 8);
  const offset = data[4] ?? 0;
  const count = data[5] ?? 0;
  if (offset !== 0 && !repo.reservationValid(reservation)) return { cc: CC_INVALID_RESERVATION };
  const index = id === 0x0000 ? 0 : id === 0xffff ? repo.records.length - 1 : repo.records.findIndex((r) => ((r[0] ?? 0) | ((r[1] ?? 0) << 8)) === id);
  const r = repo.records[index];
  if (r === undefined) return { cc: CC_NOT_PRESENT };
  if (offset >= r.length) return { cc: CompletionCode.ParameterOutOfRange };
  const next = repo.records[index + 1];
  const nextId = next === undefined ? 0xffff : (next[0] ?? 0) | ((next[1] ?? 0) << 8);
  const end = count === 0xff ? r.length : Math.min(r.length, offset + count);
  return { cc: CompletionCode.Ok, data: Uint8Array.of(...u16(nextId), ...r.subarray(offset, end)) };
}

export async function getSensorReading(repo: SdrRepository, data: Uint8Array): Promise<CommandResult> {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const s = repo.sensor(data[0] ?? 0);
  if (s === undefined) return { cc: CC_NOT_PRESENT };
  const r = await s.read();
  const status = SCANNING_ENABLED | (r.unavailable ? READING_UNAVAILABLE : 0);
  if (s.kind === 'threshold') return { cc: CompletionCode.Ok, data: Uint8Array.of(r.raw, status, r.thresholds | 0xc0) };
  return { cc: CompletionCode.Ok, data: Uint8Array.of(0x00, status, r.states & 0xff, ((r.states >>> 8) & 0x7f) | 0x80) };
}

export function getSensorThresholds(repo: SdrRepository, data: Uint8Array): CommandResult {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const s = repo.sensor(data[0] ?? 0);
  if (s === undefined) return { cc: CC_NOT_PRESENT };
  if (s.kind !== 'threshold') return { cc: CompletionCode.InvalidCommand };
  const t = s.spec as ThresholdSensorSpec;
  const raw = (v: number | undefined): number => (v === undefined ? 0 : Math.max(-128, Math.min(127, Math.round(v))) & 0xff);
  const mask = (t.upperCritical === undefined ? 0 : 0x10) | (t.upperNonCritical === undefined ? 0 : 0x08);
  // Order: mask, LNC, LC, LNR, UNC, UC, UNR.
  return { cc: CompletionCode.Ok, data: Uint8Array.of(mask, 0, 0, 0, raw(t.upperNonCritical), raw(t.upperCritical), 0) };
}

export function registerSdrCommands(registry: CommandRegistry, repo: SdrRepository): void {
  const reg = (name: string, netfn: number, cmd: number, handler: (d: Uint8Array) => CommandResult | Promise<CommandResult>): void =>
    registry.register({ name, netfn, cmd, privilege: Privilege.User, channel: 'both', handler: (_c, d) => handler(d) });
  const none = (f: () => CommandResult) => (d: Uint8Array): CommandResult => (d.length === 0 ? f() : { cc: CompletionCode.RequestLengthInvalid });
  reg('get-sdr-repository-info', NETFN_STORAGE, SdrCmd.GetSdrRepositoryInfo, none(() => getSdrRepositoryInfo(repo)));
  reg('reserve-sdr-repository', NETFN_STORAGE, SdrCmd.ReserveSdrRepository, none(() => ({ cc: CompletionCode.Ok, data: Uint8Array.of(...u16(repo.reserve())) })));
  reg('get-sdr', NETFN_STORAGE, SdrCmd.GetSdr, (d) => getSdr(repo, d));
  reg('get-sensor-reading', NETFN_SENSOR, SensorCmd.GetSensorReading, (d) => getSensorReading(repo, d));
  reg('get-sensor-thresholds', NETFN_SENSOR, SensorCmd.GetSensorThresholds, (d) => getSensorThresholds(repo, d));
  reg('get-sensor-event-enable', NETFN_SENSOR, SensorCmd.GetSensorEventEnable, (d) => {
    if (d.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
    // Events are not generated: scanning on, event messages off, no event enables.
    return repo.sensor(d[0] ?? 0) === undefined ? { cc: CC_NOT_PRESENT } : { cc: CompletionCode.Ok, data: Uint8Array.of(SCANNING_ENABLED) };
  });
}
