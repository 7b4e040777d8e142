/** Byte stuffing of the VM protocol: 0xA0, 0xA1 and 0xAA inside a frame are sent as 0xAA, byte|0x10. */
import { VM_ESCAPE_BIT, VmChar } from './constants.js';

function needsEscape(b: number): boolean {
  return b === VmChar.MessageEnd || b === VmChar.ControlEnd || b === VmChar.Escape;
}

/** Escapes `payload` and appends `terminator` (0xA0 or 0xA1). */
export function frameVmPayload(payload: Uint8Array, terminator: number): Uint8Array {
  let extra = 0;
  for (const b of payload) if (needsEscape(b)) extra++;
  const out = new Uint8Array(payload.length + extra + 1);
  let at = 0;
  for (const b of payload) {
    if (needsEscape(b)) {
      out[at++] = VmChar.Escape;
      out[at++] = b | VM_ESCAPE_BIT;
    } else {
      out[at++] = b;
    }
  }
  out[at] = terminator;
  return out;
}

/** IPMB-style checksum: the byte that makes `bytes` plus itself sum to 0 mod 256. */
export function vmChecksum(bytes: Uint8Array, end = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}
