/**
 * System boot options (IPMI v2.0 §28.12-28.13, table 28-14), parameters 0
 * to 6, kept in `boot.json`. What they do here: when Chassis Control powers
 * the host on, cycles or resets it while the boot flags are valid, the
 * power program gets the boot device in its environment
 * (BMC_BOOT_DEVICE=pxe, BMC_BOOT_PERSISTENT=0|1, BMC_BOOT_EFI=0|1) and a
 * one-time setting is then cleared, as a BMC does once the BIOS has read it.
 * The spec's 60-second expiry of the valid bit is not implemented: the
 * setting waits for the next power action.
 */
import { expectHex, expectObject, JsonStateFile } from '../state/state-file.js';

/** Data length of each parameter we keep. */
export const BOOT_PARAMETER_LENGTHS: Readonly<Record<number, number>> = {
  0: 1, // set in progress
  1: 1, // service partition selector
  2: 1, // service partition scan
  3: 1, // BMC boot flag valid bit clearing
  4: 2, // boot info acknowledge (write mask, data)
  5: 5, // boot flags
  6: 9, // boot initiator info
};

export const BOOT_FLAGS = 5;
const BOOT_INFO_ACK = 4;
const FLAGS_VALID = 0x80;
const FLAGS_PERSISTENT = 0x40;
const FLAGS_EFI = 0x20;

/** Boot device selector (boot flags byte 2, bits 5:2) → the name the power program sees. */
export const BOOT_DEVICE_NAMES: Readonly<Record<number, string>> = {
  0x0: 'none',
  0x1: 'pxe',
  0x2: 'disk',
  0x3: 'safe',
  0x4: 'diag',
  0x5: 'cdrom',
  0x6: 'bios',
  0x7: 'remote-floppy',
  0x8: 'remote-primary',
  0x9: 'remote-cdrom',
  0xb: 'remote-disk',
  0xf: 'floppy',
};

interface StoredBoot {
  version: 1;
  parameters: Record<string, string>;
}

export const BOOT_FILE = 'boot.json';

function validate(raw: unknown): StoredBoot {
  const o = expectObject(raw, 'boot.json');
  const params = expectObject(o.parameters, 'parameters');
  if (o.version !== 1) throw new Error('expected "version": 1');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const len = BOOT_PARAMETER_LENGTHS[Number(k)];
    if (len === undefined) throw new Error(`unknown boot parameter ${k}`);
    const bytes = expectHex(v, `parameters.${k}`, len);
    if (bytes.length !== len) throw new Error(`parameters.${k} must be ${len} bytes`);
    out[k] = Buffer.from(bytes).toString('hex');
  }
  return { version: 1, parameters: out };
}

export interface BootSelection {
  device: string;
  persistent: boolean;
  efi: boolean;
}

export class BootOptions {
  readonly #file: JsonStateFile<StoredBoot>;
  readonly #params = new Map<number, Uint8Array>();

  constructor(o: { stateDir?: string }) {
    this.#file = new JsonStateFile(o.stateDir, BOOT_FILE, validate);
    const doc = this.#file.load();
    for (const [k, v] of Object.entries(doc?.parameters ?? {})) this.#params.set(Number(k), Uint8Array.from(Buffer.from(v, 'hex')));
  }

  #save(): void {
    const parameters: Record<string, string> = {};
    for (const [k, v] of this.#params) parameters[String(k)] = Buffer.from(v).toString('hex');
    this.#file.save({ version: 1, parameters });
  }

  /** A parameter's data (zeros until set), or undefined for one we do not keep. */
  get(parameter: number): Uint8Array | undefined {
    const len = BOOT_PARAMETER_LENGTHS[parameter];
    if (len === undefined) return undefined;
    return this.#params.get(parameter) ?? new Uint8Array(len);
  }

  /** Sets a parameter; 'length' when the data has the wrong size, 'unsupported' for one we do not keep. */
  set(parameter: number, data: Uint8Array): 'ok' | 'length' | 'unsupported' {
    const len = BOOT_PARAMETER_LENGTHS[parameter];
    if (len === undefined) return 'unsupported';
    if (data.length !== len) return 'length';
    if (parameter === BOOT_INFO_ACK) {
      // Byte 1 is a write mask for byte 2 (§28.13, parameter 4).
      const old = this.get(BOOT_INFO_ACK) ?? new Uint8Array(2);
      const mask = data[0] ?? 0;
      this.#params.set(parameter, Uint8Array.of(0, ((old[1] ?? 0) & ~mask) | ((data[1] ?? 0) & mask)));
    } else {
      this.#params.set(parameter, Uint8Array.from(data));
    }
    this.#save();
    return 'ok';
  }

  /** The boot device the next power-on should use, if the boot flags are valid. */
  selection(): BootSelection | undefined {
    const f = this.get(BOOT_FLAGS) ?? new Uint8Array(5);
    const b1 = f[0] ?? 0;
    if ((b1 & FLAGS_VALID) === 0) return undefined;
    const selector = ((f[1] ?? 0) >> 2) & 0x0f;
    return { device: BOOT_DEVICE_NAMES[selector] ?? `selector-${selector}`, persistent: (b1 & FLAGS_PERSISTENT) !== 0, efi: (b1 & FLAGS_EFI) !== 0 };
  }

  /** After the host was started with a one-time selection: the BIOS has had it, clear the valid bit. */
  consumeOneTime(): void {
    const f = this.get(BOOT_FLAGS);
    if (f === undefined || ((f[0] ?? 0) & FLAGS_VALID) === 0 || ((f[0] ?? 0) & FLAGS_PERSISTENT) !== 0) return;
    const next = Uint8Array.from(f);
    next[0] = (next[0] ?? 0) & ~FLAGS_VALID;
    this.#params.set(BOOT_FLAGS, next);
    this.#save();
  }

  /** The environment the power program gets for a start with the current selection. */
  environment(): Record<string, string> {
    const s = this.selection();
    if (s === undefined) return {};
    return { BMC_BOOT_DEVICE: s.device, BMC_BOOT_PERSISTENT: s.persistent ? '1' : '0', BMC_BOOT_EFI: s.efi ? '1' : '0' };
  }
}
