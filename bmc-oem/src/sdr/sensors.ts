/**
 * The sensors this BMC really has, and their readings:
 * - Host Power (sensor 1): System ACPI Power State (type 22h), from the
 *   host-power backend: S0/G0 working, or S4/S5 soft-off;
 * - Host Link (sensor 2): Cable/Interconnect (type 1Bh), offset 0
 *   "connected" while the host's system-interface connection is up;
 * - BMC Audit (sensor 3): an event-only OEM sensor (type C0h, event type
 *   70h) whose events are bmc-oem's own SEL records (sel/bmc-events.ts);
 *   it has no reading of its own (no state asserted);
 * - one temperature per Linux thermal zone (sensors 16+), in degrees C, read
 *   from `thermal_zoneN/temp` (millidegrees) with its critical and hot trip
 *   points as thresholds.
 * Nothing here is invented: a reading that cannot be taken is reported as
 * "reading unavailable".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostPowerBackend } from '../commands/host-power-port.js';
import { BMC_AUDIT_OFFSETS, BMC_AUDIT_SENSOR_NUMBER, BMC_AUDIT_SENSOR_TYPE, OEM_EVENT_TYPE } from '../sel/bmc-events.js';
import { compactSensorRecord, fullSensorRecord, mcDeviceLocatorRecord, type DiscreteSensorSpec, type ThresholdSensorSpec } from './sdr-records.js';

export const SensorNumber = { HostPower: 0x01, HostLink: 0x02, BmcAudit: BMC_AUDIT_SENSOR_NUMBER, FirstThermal: 0x10 } as const;
const SENSOR_TYPE_TEMPERATURE = 0x01;
const SENSOR_TYPE_CABLE = 0x1b;
const SENSOR_TYPE_ACPI_POWER = 0x22;
const READING_SENSOR_SPECIFIC = 0x6f;
const UNIT_DEGREES_C = 0x01;
const ENTITY_SYSTEM_BOARD = 0x07;
const ENTITY_SYSTEM_CHASSIS = 0x17;
const ENTITY_MANAGEMENT_MODULE = 0x06;
const ACPI_S0_WORKING = 0;
const ACPI_SOFT_OFF = 6;
/** Largest number of thermal zones given sensors (sensor numbers 0x10..0x2F). */
const MAX_THERMAL_ZONES = 32;

export interface SensorReading {
  /** Raw reading byte (threshold sensors). */
  raw: number;
  /** Offsets asserted (discrete sensors), bit n = offset n. */
  states: number;
  unavailable: boolean;
  /** Threshold comparison bits (threshold sensors): bit 4 at/above upper critical, bit 3 upper non-critical. */
  thresholds: number;
}

export interface Sensor {
  readonly number: number;
  readonly kind: 'threshold' | 'discrete';
  readonly spec: ThresholdSensorSpec | DiscreteSensorSpec;
  read(): Promise<SensorReading>;
}

export interface SensorSources {
  hostPower: HostPowerBackend;
  /** True while a host is connected to the system interface. */
  hostLinkUp: () => boolean;
  thermal: { enabled: boolean; dir: string };
}

const UNAVAILABLE: SensorReading = { raw: 0, states: 0, unavailable: true, thresholds: 0 };

function readMilli(path: string): number | undefined {
  try {
    const v = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(v) ? v / 1000 : undefined;
  } catch {
    return undefined;
  }
}

interface ThermalZone {
  path: string;
  name: string;
  critical?: number;
  hot?: number;
}

/** The thermal zones under `dir` (sysfs layout: thermal_zoneN/{type,temp,trip_point_K_type,trip_point_K_temp}). */
export function findThermalZones(dir: string): ThermalZone[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^thermal_zone\d+$/.test(n));
  } catch {
    return [];
  }
  names.sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const zones: ThermalZone[] = [];
  for (const n of names.slice(0, MAX_THERMAL_ZONES)) {
    const path = join(dir, n);
    if (readMilli(join(path, 'temp')) === undefined) continue;
    let type = n;
    try {
      type = readFileSync(join(path, 'type'), 'utf8').trim() || n;
    } catch {
      // a zone without a type keeps its directory name
    }
    const zone: ThermalZone = { path, name: type.slice(0, 16) };
    for (let k = 0; k < 16; k++) {
      let tripType: string;
      try {
        tripType = readFileSync(join(path, `trip_point_${k}_type`), 'utf8').trim();
      } catch {
        break;
      }
      const t = readMilli(join(path, `trip_point_${k}_temp`));
      if (t === undefined || t <= 0) continue;
      if (tripType === 'critical') zone.critical = Math.min(zone.critical ?? Infinity, t);
      else if (tripType === 'hot' || tripType === 'passive') zone.hot = Math.min(zone.hot ?? Infinity, t);
    }
    zones.push(zone);
  }
  return zones;
}

export function buildSensors(src: SensorSources): Sensor[] {
  const sensors: Sensor[] = [
    {
      number: SensorNumber.HostPower,
      kind: 'discrete',
      spec: { number: SensorNumber.HostPower, name: 'Host Power', entityId: ENTITY_SYSTEM_CHASSIS, entityInstance: 1, sensorType: SENSOR_TYPE_ACPI_POWER, readingType: READING_SENSOR_SPECIFIC, offsets: (1 << ACPI_S0_WORKING) | (1 << ACPI_SOFT_OFF) },
      read: async () => {
        try {
          const s = await src.hostPower.status();
          if (s === undefined) return UNAVAILABLE;
          return { raw: 0, states: 1 << (s.powerOn ? ACPI_S0_WORKING : ACPI_SOFT_OFF), unavailable: false, thresholds: 0 };
        } catch {
          return UNAVAILABLE;
        }
      },
    },
    {
      number: SensorNumber.HostLink,
      kind: 'discrete',
      spec: { number: SensorNumber.HostLink, name: 'Host Link', entityId: ENTITY_SYSTEM_BOARD, entityInstance: 1, sensorType: SENSOR_TYPE_CABLE, readingType: READING_SENSOR_SPECIFIC, offsets: 0x01 },
      read: () => Promise.resolve({ raw: 0, states: src.hostLinkUp() ? 0x01 : 0x00, unavailable: false, thresholds: 0 }),
    },
    {
      number: SensorNumber.BmcAudit,
      kind: 'discrete',
      spec: { number: SensorNumber.BmcAudit, name: 'BMC Audit', entityId: ENTITY_MANAGEMENT_MODULE, entityInstance: 1, sensorType: BMC_AUDIT_SENSOR_TYPE, readingType: OEM_EVENT_TYPE, offsets: BMC_AUDIT_OFFSETS },
      read: () => Promise.resolve({ raw: 0, states: 0, unavailable: false, thresholds: 0 }),
    },
  ];
  if (src.thermal.enabled) {
    findThermalZones(src.thermal.dir).forEach((z, i) => {
      const number = SensorNumber.FirstThermal + i;
      const spec: ThresholdSensorSpec = { number, name: z.name, entityId: ENTITY_SYSTEM_BOARD, entityInstance: i + 1, sensorType: SENSOR_TYPE_TEMPERATURE, unit: UNIT_DEGREES_C };
      if (z.critical !== undefined) spec.upperCritical = z.critical;
      if (z.hot !== undefined) spec.upperNonCritical = z.hot;
      sensors.push({
        number,
        kind: 'threshold',
        spec,
        read: () => {
          const t = readMilli(join(z.path, 'temp'));
          if (t === undefined) return Promise.resolve(UNAVAILABLE);
          const raw = Math.max(-128, Math.min(127, Math.round(t)));
          let thresholds = 0;
          if (z.critical !== undefined && t >= z.critical) thresholds |= 0x10;
          if (z.hot !== undefined && t >= z.hot) thresholds |= 0x08;
          return Promise.resolve({ raw: raw & 0xff, states: 0, unavailable: false, thresholds });
        },
      });
    });
  }
  return sensors;
}

/** The SDR repository for `sensors`: the BMC's device locator first, then one record per sensor (ids from 1). */
export function buildSdrRepository(sensors: readonly Sensor[], mcCapabilities: number): Uint8Array[] {
  const records: Uint8Array[] = [mcDeviceLocatorRecord(1, 'bmc-oem', mcCapabilities)];
  for (const s of sensors) {
    const id = records.length + 1;
    records.push(s.kind === 'threshold' ? fullSensorRecord(id, s.spec as ThresholdSensorSpec) : compactSensorRecord(id, s.spec as DiscreteSensorSpec));
  }
  return records;
}
