/**
 * Get Chassis Status response data (NetFn Chassis 0x01), IPMI v2.0 §28.2:
 *
 *   0  current power state: bit 0 power on, 1 overload, 2 interlock,
 *      3 main power fault, 4 power control fault, 6:5 restore policy
 *   1  last power event bitmask
 *   2  misc chassis state (bit 0 intrusion, 1 front panel lockout, 2 drive
 *      fault, 3 cooling fault, ...)
 *   3  front panel button capabilities (optional)
 *
 * Kept as raw bytes: each consumer reads the bits it needs through the
 * helpers; that keeps decode(encode(x)) exact.
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { ipmiDeviations, type DeviationSink } from './deviations.js';
import { isByte } from './ranges.js';

export interface ChassisStatus {
  currentPowerState: number;
  lastPowerEvent: number;
  miscChassisState: number;
  frontPanelButtons?: number;
}

export const ChassisPowerState = {
  POWER_ON: 0x01,
  OVERLOAD: 0x02,
  INTERLOCK: 0x04,
  MAIN_POWER_FAULT: 0x08,
  POWER_CONTROL_FAULT: 0x10,
} as const;

export function encodeChassisStatus(m: ChassisStatus): Uint8Array {
  const bytes = [m.currentPowerState, m.lastPowerEvent, m.miscChassisState];
  if (m.frontPanelButtons !== undefined) bytes.push(m.frontPanelButtons);
  for (const b of bytes) if (!isByte(b)) throw new WireError('ERR_BAD_FIELD', 'Get Chassis Status field is not a byte');
  return new Uint8Array(bytes);
}

/**
 * Decodes Get Chassis Status, tolerantly: the power state byte is needed;
 * missing bytes 2-3 read as 0 and bytes past the 4th are ignored, each
 * reported to `onDeviation` (by default `ipmiDeviations`).
 */
export function decodeChassisStatus(buf: Uint8Array, onDeviation: DeviationSink = ipmiDeviations.sink): ChassisStatus {
  requireBytes(buf, 0, 1, 'ERR_TRUNCATED', 'Get Chassis Status response');
  if (buf.length < 3) onDeviation({ message: 'Get Chassis Status', kind: 'short', length: buf.length });
  else if (buf.length > 4) onDeviation({ message: 'Get Chassis Status', kind: 'long', length: buf.length });
  const out: ChassisStatus = { currentPowerState: buf[0] ?? 0, lastPowerEvent: buf[1] ?? 0, miscChassisState: buf[2] ?? 0 };
  if (buf.length >= 4) out.frontPanelButtons = buf[3] ?? 0;
  return out;
}

export function chassisPowerIsOn(s: ChassisStatus): boolean {
  return (s.currentPowerState & ChassisPowerState.POWER_ON) !== 0;
}

/** Power restore policy, bits 6:5 of byte 0: 0 always off, 1 previous, 2 always on, 3 unknown. */
export function chassisRestorePolicy(s: ChassisStatus): number {
  return (s.currentPowerState >> 5) & 0x03;
}
