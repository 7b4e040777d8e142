/**
 * SDR record encoders (IPMI v2.0 §43): full sensor records (type 01h, for
 * threshold sensors such as temperatures), compact sensor records (02h, for
 * discrete sensors) and the management controller device locator (12h).
 * Each returns the whole record, header included, with the record id given.
 */
export const SDR_VERSION = 0x51;
export const SdrType = { FullSensor: 0x01, CompactSensor: 0x02, McDeviceLocator: 0x12 } as const;
/** The BMC's IPMB slave address: the owner of every sensor here. */
export const BMC_ADDRESS = 0x20;
const ASCII_ID = 0xc0;

function idString(name: string): number[] {
  const bytes = [...Buffer.from(name, 'latin1').subarray(0, 16)];
  return [ASCII_ID | bytes.length, ...bytes];
}

function record(id: number, type: number, body: number[]): Uint8Array {
  return Uint8Array.from([id & 0xff, id >>> 8, SDR_VERSION, type, body.length, ...body]);
}

export interface ThresholdSensorSpec {
  number: number;
  name: string;
  entityId: number;
  entityInstance: number;
  sensorType: number;
  /** Base unit (§43.17: 1 = degrees C). */
  unit: number;
  /** Raw readings are signed two's complement bytes in the unit (M = 1, B = 0, no exponent). */
  upperCritical?: number;
  upperNonCritical?: number;
}

/** Full sensor record for a linear, signed, one-unit-per-count threshold sensor. */
export function fullSensorRecord(id: number, s: ThresholdSensorSpec): Uint8Array {
  const readable = (s.upperCritical === undefined ? 0 : 0x10) | (s.upperNonCritical === undefined ? 0 : 0x08);
  const raw = (v: number | undefined): number => (v === undefined ? 0 : Math.max(-128, Math.min(127, Math.round(v))) & 0xff);
  return record(id, SdrType.FullSensor, [
    BMC_ADDRESS,
    0x00, // owner LUN 0
    s.number,
    s.entityId,
    s.entityInstance,
    0x41, // initialization: scanning on at start, sensor scanning enabled
    0x44 | 0x03, // capabilities: auto re-arm, thresholds readable (not settable), no events
    s.sensorType,
    0x01, // event/reading type: threshold
    0x00, 0x00, // assertion event mask / lower threshold reading mask
    0x00, (s.upperCritical === undefined ? 0 : 0x10) | (s.upperNonCritical === undefined ? 0 : 0x08), // deassertion / upper threshold reading mask
    readable, 0x00, // readable threshold mask, settable threshold mask
    0x80, // units 1: two's complement, no rate, no modifier
    s.unit,
    0x00, // modifier unit
    0x00, // linear
    0x01, 0x00, // M = 1, tolerance 0
    0x00, 0x00, // B = 0, accuracy
    0x00, // accuracy, direction unspecified
    0x00, // R exponent 0, B exponent 0
    0x00, // analog characteristics: no nominal / normal values
    0x00, 0x00, 0x00, // nominal, normal max, normal min
    0x7f, 0x80, // sensor maximum / minimum reading (+127 / -128)
    0x00, raw(s.upperCritical), raw(s.upperNonCritical), // upper non-recoverable, critical, non-critical
    0x00, 0x00, 0x00, // lower thresholds
    0x00, 0x00, // hysteresis
    0x00, 0x00, // reserved
    0x00, // OEM
    ...idString(s.name),
  ]);
}

export interface DiscreteSensorSpec {
  number: number;
  name: string;
  entityId: number;
  entityInstance: number;
  sensorType: number;
  /** Event/reading type (0x6F: sensor-specific offsets). */
  readingType: number;
  /** The state offsets this sensor can report (bit n = offset n). */
  offsets: number;
}

export function compactSensorRecord(id: number, s: DiscreteSensorSpec): Uint8Array {
  const lo = s.offsets & 0xff;
  const hi = (s.offsets >>> 8) & 0x7f;
  return record(id, SdrType.CompactSensor, [
    BMC_ADDRESS,
    0x00,
    s.number,
    s.entityId,
    s.entityInstance,
    0x41, // initialization: scanning on
    0x43, // capabilities: auto re-arm, no thresholds, no events
    s.sensorType,
    s.readingType,
    lo, hi, // assertion event mask
    lo, hi, // deassertion event mask
    lo, hi, // discrete reading mask
    0x00, 0x00, 0x00, // units: none
    0x01, 0x00, // record sharing: one sensor
    0x00, 0x00, // hysteresis
    0x00, 0x00, 0x00, // reserved
    0x00, // OEM
    ...idString(s.name),
  ]);
}

/** MC device locator: the BMC itself, with the functions it has (§43.9). */
export function mcDeviceLocatorRecord(id: number, name: string, capabilities: number): Uint8Array {
  return record(id, SdrType.McDeviceLocator, [
    BMC_ADDRESS,
    0x00, // channel 0 (primary IPMB)
    0x00, // power state notification / global initialization
    capabilities,
    0x00, 0x00, 0x00, // reserved
    0x06, // entity: system management module
    0x01,
    0x00, // OEM
    ...idString(name),
  ]);
}
