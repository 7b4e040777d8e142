/**
 * Get Device ID response data (NetFn App 0x01), IPMI v2.0 §20.1, Table 20-2:
 *
 *   0      device id
 *   1      bit 7 provides device SDRs; bits 3:0 device revision
 *   2      bit 7 device available (0 = normal operation, 1 = update in
 *          progress); bits 6:0 firmware major revision
 *   3      firmware minor revision (BCD)
 *   4      IPMI version (BCD, low nibble = major: 0x02 = "2.0")
 *   5      additional device support bitmask
 *   6..8   manufacturer id (IANA, LE, 20 bits)
 *   9..10  product id (LE)
 *   11..14 auxiliary firmware revision (optional)
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { ipmiDeviations, type DeviationSink } from './deviations.js';
import { isByte, isU16 } from './ranges.js';

export interface DeviceId {
  deviceId: number;
  deviceRevision: number;
  providesDeviceSdrs: boolean;
  firmwareMajor: number;
  /** True when bit 7 of byte 2 is set: a firmware/SDR update is in progress. */
  updateInProgress: boolean;
  /** Raw BCD byte. */
  firmwareMinor: number;
  /** Raw BCD byte (0x02 = IPMI 2.0, 0x51 = 1.5). */
  ipmiVersion: number;
  additionalDeviceSupport: number;
  manufacturerId: number;
  productId: number;
  auxFirmwareRevision?: Uint8Array;
}

export const DEVICE_ID_BYTES = 11;
export const DEVICE_ID_AUX_BYTES = 4;

export function encodeDeviceId(m: DeviceId): Uint8Array {
  for (const b of [m.deviceId, m.firmwareMinor, m.ipmiVersion, m.additionalDeviceSupport]) if (!isByte(b)) throw new WireError('ERR_BAD_FIELD', 'Get Device ID byte field out of range');
  if (!Number.isInteger(m.deviceRevision) || m.deviceRevision < 0 || m.deviceRevision > 0x0f) throw new WireError('ERR_BAD_FIELD', 'device revision does not fit 4 bits');
  if (!Number.isInteger(m.firmwareMajor) || m.firmwareMajor < 0 || m.firmwareMajor > 0x7f) throw new WireError('ERR_BAD_FIELD', 'firmware major does not fit 7 bits');
  if (!Number.isInteger(m.manufacturerId) || m.manufacturerId < 0 || m.manufacturerId > 0xfffff) throw new WireError('ERR_BAD_FIELD', 'manufacturer id does not fit 20 bits');
  if (!isU16(m.productId)) throw new WireError('ERR_BAD_FIELD', 'product id does not fit 16 bits');
  if (m.auxFirmwareRevision && m.auxFirmwareRevision.length !== DEVICE_ID_AUX_BYTES) throw new WireError('ERR_BAD_FIELD', 'aux firmware revision must be 4 bytes');
  const out = new Uint8Array(DEVICE_ID_BYTES + (m.auxFirmwareRevision ? DEVICE_ID_AUX_BYTES : 0));
  out[0] = m.deviceId;
  out[1] = (m.providesDeviceSdrs ? 0x80 : 0) | m.deviceRevision;
  out[2] = (m.updateInProgress ? 0x80 : 0) | m.firmwareMajor;
  out[3] = m.firmwareMinor;
  out[4] = m.ipmiVersion;
  out[5] = m.additionalDeviceSupport;
  out[6] = m.manufacturerId & 0xff;
  out[7] = (m.manufacturerId >>> 8) & 0xff;
  out[8] = (m.manufacturerId >>> 16) & 0x0f;
  out[9] = m.productId & 0xff;
  out[10] = (m.productId >>> 8) & 0xff;
  if (m.auxFirmwareRevision) out.set(m.auxFirmwareRevision, DEVICE_ID_BYTES);
  return out;
}

/** Fewer bytes than this carry no manufacturer at all: not a Get Device ID answer. */
export const DEVICE_ID_MIN_BYTES = 6;

/**
 * Decodes a Get Device ID answer, tolerantly: 11 or 15 bytes are the spec;
 * 6-10 bytes (manufacturer or product cut short) read the missing bytes as
 * 0, 12-14 bytes carry a short auxiliary revision (padded with 0 to 4), more
 * than 15 bytes are ignored past the 15th. Each such answer is reported to
 * `onDeviation` (by default the process-wide `ipmiDeviations`).
 */
export function decodeDeviceId(buf: Uint8Array, onDeviation: DeviationSink = ipmiDeviations.sink): DeviceId {
  requireBytes(buf, 0, DEVICE_ID_MIN_BYTES, 'ERR_TRUNCATED', 'Get Device ID response');
  const n = buf.length;
  if (n < DEVICE_ID_BYTES) onDeviation({ message: 'Get Device ID', kind: 'short', length: n });
  else if (n > DEVICE_ID_BYTES + DEVICE_ID_AUX_BYTES) onDeviation({ message: 'Get Device ID', kind: 'long', length: n });
  else if (n !== DEVICE_ID_BYTES && n !== DEVICE_ID_BYTES + DEVICE_ID_AUX_BYTES) onDeviation({ message: 'Get Device ID', kind: 'aux-length', length: n });
  const b = (i: number): number => buf[i] ?? 0;
  const out: DeviceId = {
    deviceId: b(0),
    deviceRevision: b(1) & 0x0f,
    providesDeviceSdrs: (b(1) & 0x80) !== 0,
    firmwareMajor: b(2) & 0x7f,
    updateInProgress: (b(2) & 0x80) !== 0,
    firmwareMinor: b(3),
    ipmiVersion: b(4),
    additionalDeviceSupport: b(5),
    manufacturerId: b(6) | (b(7) << 8) | ((b(8) & 0x0f) << 16),
    productId: b(9) | (b(10) << 8),
  };
  if (n > DEVICE_ID_BYTES) {
    const aux = new Uint8Array(DEVICE_ID_AUX_BYTES);
    aux.set(buf.subarray(DEVICE_ID_BYTES, DEVICE_ID_BYTES + DEVICE_ID_AUX_BYTES));
    out.auxFirmwareRevision = aux;
  }
  return out;
}

/** Names of the additional device support bits, bit 0 first (ipmitool `mc info` wording). */
export const ADDITIONAL_DEVICE_SUPPORT_NAMES: readonly string[] = Object.freeze([
  'Sensor Device',
  'SDR Repository Device',
  'SEL Device',
  'FRU Inventory Device',
  'IPMB Event Receiver',
  'IPMB Event Generator',
  'Bridge',
  'Chassis Device',
]);

/** "9.08" from major 9 and BCD minor 0x08. */
export function firmwareRevisionText(d: Pick<DeviceId, 'firmwareMajor' | 'firmwareMinor'>): string {
  return `${d.firmwareMajor}.${d.firmwareMinor.toString(16).padStart(2, '0')}`;
}

/** "2.0" from BCD 0x02 (low nibble major, high nibble minor). */
export function ipmiVersionText(bcd: number): string {
  return `${bcd & 0x0f}.${(bcd >> 4) & 0x0f}`;
}
