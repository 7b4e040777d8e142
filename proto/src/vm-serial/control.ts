/**
 * Control commands of the VM protocol (frames ending in 0xA1): one code
 * byte, then operands (version and capabilities carry one byte each).
 * See VmControlCode for the meaning and direction of each.
 */
import { WireError } from '../errors.js';
import { VmChar, VmControlCode } from './constants.js';
import { frameVmPayload } from './escape.js';

export type VmControl =
  | { kind: 'version'; version: number }
  | { kind: 'capabilities'; capabilities: number }
  | { kind: 'no-attn' }
  | { kind: 'attn' }
  | { kind: 'attn-irq' }
  | { kind: 'power-off' }
  | { kind: 'reset' }
  | { kind: 'enable-irq' }
  | { kind: 'disable-irq' }
  | { kind: 'send-nmi' }
  | { kind: 'graceful-shutdown' }
  /** A code this codec does not know; kept so a peer's newer command is counted, not fatal. */
  | { kind: 'unknown'; code: number; operands: Uint8Array };

type SimpleKind = Exclude<VmControl['kind'], 'version' | 'capabilities' | 'unknown'>;

const SIMPLE: Record<SimpleKind, number> = {
  'no-attn': VmControlCode.NoAttn,
  attn: VmControlCode.Attn,
  'attn-irq': VmControlCode.AttnIrq,
  'power-off': VmControlCode.PowerOff,
  reset: VmControlCode.Reset,
  'enable-irq': VmControlCode.EnableIrq,
  'disable-irq': VmControlCode.DisableIrq,
  'send-nmi': VmControlCode.SendNmi,
  'graceful-shutdown': VmControlCode.GracefulShutdown,
};
const SIMPLE_BY_CODE = new Map<number, SimpleKind>(Object.entries(SIMPLE).map(([k, v]) => [v, k as SimpleKind]));

function checkU8(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u8`);
}

/** The unescaped payload of a control command (no terminator). */
export function encodeVmControlPayload(c: VmControl): Uint8Array {
  switch (c.kind) {
    case 'version':
      checkU8(c.version, 'version');
      return Uint8Array.of(VmControlCode.Version, c.version);
    case 'capabilities':
      checkU8(c.capabilities, 'capabilities');
      return Uint8Array.of(VmControlCode.Capabilities, c.capabilities);
    case 'unknown': {
      checkU8(c.code, 'control code');
      const out = new Uint8Array(1 + c.operands.length);
      out[0] = c.code;
      out.set(c.operands, 1);
      return out;
    }
    default:
      return Uint8Array.of(SIMPLE[c.kind]);
  }
}

/** Wire bytes of a control command: escaped payload + 0xA1. */
export function encodeVmControlFrame(c: VmControl): Uint8Array {
  return frameVmPayload(encodeVmControlPayload(c), VmChar.ControlEnd);
}

/**
 * Decodes an unescaped control payload. Version and capabilities need their
 * operand byte (ERR_TRUNCATED otherwise); operands beyond what a command
 * defines are ignored, as OpenIPMI and QEMU do.
 */
export function decodeVmControlPayload(payload: Uint8Array): VmControl {
  if (payload.length < 1) throw new WireError('ERR_TRUNCATED', 'empty control command', 0);
  const code = payload[0] ?? 0;
  if (code === VmControlCode.Version || code === VmControlCode.Capabilities) {
    if (payload.length < 2) throw new WireError('ERR_TRUNCATED', `control 0x${code.toString(16)} needs an operand`, 1);
    const operand = payload[1] ?? 0;
    return code === VmControlCode.Version ? { kind: 'version', version: operand } : { kind: 'capabilities', capabilities: operand };
  }
  const simple = SIMPLE_BY_CODE.get(code);
  if (simple !== undefined) return { kind: simple } as VmControl;
  return { kind: 'unknown', code, operands: payload.slice(1) };
}
