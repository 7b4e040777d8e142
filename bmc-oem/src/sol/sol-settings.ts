/**
 * The SOL configuration parameters (IPMI v2.0 §26.3) as Get/Set SOL
 * Configuration Parameters see them, kept in memory (a restart returns to
 * the configured values). Pure: the bridge reads them, the commands change
 * them.
 */
import { SOL_BAUD_CODES, SolParam, solBaudCode } from '@backchannel/proto';
import { CompletionCode } from '../commands/completion-codes.js';
import { Privilege, type PrivilegeLevel } from '../commands/privilege.js';

export interface SolSettingsInit {
  enabled: boolean;
  privilege: PrivilegeLevel;
  /** Baud of the host serial port (parameters 5 and 6). */
  baud: number;
  retryCount: number;
  retryIntervalMs: number;
  /** UDP port reported by parameter 8 and Activate Payload. */
  port: () => number;
}

/** "Parameter not supported" (§26.3), "attempt to write a read-only parameter". */
export const CC_PARAM_NOT_SUPPORTED = 0x80;
export const CC_PARAM_READ_ONLY = 0x82;

export class SolSettings {
  enabled: boolean;
  privilege: PrivilegeLevel;
  forceEncryption = true;
  forceAuthentication = true;
  /** Character accumulate interval (5 ms units) and send threshold, as reported. */
  accumulateInterval = 12;
  sendThreshold = 96;
  retryCount: number;
  /** 10 ms units on the wire. */
  retryIntervalMs: number;
  nvBaud: number;
  volatileBaud: number;
  readonly #port: () => number;
  readonly #lanChannel: number;
  #setInProgress = 0;
  readonly #baudListeners: ((baud: number) => void)[] = [];

  constructor(init: SolSettingsInit, lanChannel = 1) {
    this.enabled = init.enabled;
    this.privilege = init.privilege;
    this.retryCount = init.retryCount;
    this.retryIntervalMs = init.retryIntervalMs;
    solBaudCode(init.baud); // throws for a rate IPMI cannot express
    this.nvBaud = init.baud;
    this.volatileBaud = init.baud;
    this.#port = init.port;
    this.#lanChannel = lanChannel;
  }

  get port(): number {
    return this.#port();
  }

  /** Called when a Set changes the bit rate, so the host line can follow. */
  onBaudChange(listener: (baud: number) => void): void {
    this.#baudListeners.push(listener);
  }

  /** Parameter data for Get SOL Configuration Parameters; a completion code when it cannot. */
  get(param: number): Uint8Array | number {
    switch (param) {
      case SolParam.SET_IN_PROGRESS:
        return Uint8Array.of(this.#setInProgress);
      case SolParam.ENABLE:
        return Uint8Array.of(this.enabled ? 1 : 0);
      case SolParam.AUTHENTICATION:
        return Uint8Array.of((this.forceEncryption ? 0x80 : 0) | (this.forceAuthentication ? 0x40 : 0) | (this.privilege & 0x0f));
      case SolParam.ACCUMULATE:
        return Uint8Array.of(this.accumulateInterval, this.sendThreshold);
      case SolParam.RETRY:
        return Uint8Array.of(this.retryCount & 0x07, Math.min(255, Math.round(this.retryIntervalMs / 10)));
      case SolParam.NV_BIT_RATE:
        return Uint8Array.of(solBaudCode(this.nvBaud));
      case SolParam.VOLATILE_BIT_RATE:
        return Uint8Array.of(solBaudCode(this.volatileBaud));
      case SolParam.PAYLOAD_CHANNEL:
        return Uint8Array.of(this.#lanChannel);
      case SolParam.PAYLOAD_PORT: {
        const p = this.#port();
        return Uint8Array.of(p & 0xff, p >> 8);
      }
      default:
        return CC_PARAM_NOT_SUPPORTED;
    }
  }

  /** Applies Set SOL Configuration Parameters; returns the completion code. */
  set(param: number, data: Uint8Array): number {
    const need = (n: number): boolean => data.length === n;
    switch (param) {
      case SolParam.SET_IN_PROGRESS:
        if (!need(1) || (data[0]! & 0x03) > 1) return CompletionCode.InvalidDataField;
        this.#setInProgress = data[0]! & 0x03;
        return CompletionCode.Ok;
      case SolParam.ENABLE:
        if (!need(1)) return CompletionCode.RequestLengthInvalid;
        this.enabled = (data[0]! & 1) === 1;
        return CompletionCode.Ok;
      case SolParam.AUTHENTICATION: {
        if (!need(1)) return CompletionCode.RequestLengthInvalid;
        const level = data[0]! & 0x0f;
        if (level < Privilege.User || level > Privilege.Oem) return CompletionCode.InvalidDataField;
        this.forceEncryption = (data[0]! & 0x80) !== 0;
        this.forceAuthentication = (data[0]! & 0x40) !== 0;
        this.privilege = level as PrivilegeLevel;
        return CompletionCode.Ok;
      }
      case SolParam.ACCUMULATE:
        if (!need(2)) return CompletionCode.RequestLengthInvalid;
        if (data[0] === 0) return CompletionCode.InvalidDataField;
        this.accumulateInterval = data[0]!;
        this.sendThreshold = data[1]!;
        return CompletionCode.Ok;
      case SolParam.RETRY:
        if (!need(2)) return CompletionCode.RequestLengthInvalid;
        this.retryCount = data[0]! & 0x07;
        this.retryIntervalMs = Math.max(10, data[1]! * 10);
        return CompletionCode.Ok;
      case SolParam.NV_BIT_RATE:
      case SolParam.VOLATILE_BIT_RATE: {
        if (!need(1)) return CompletionCode.RequestLengthInvalid;
        const code = data[0]! & 0x0f;
        // 0: "use the setting of the system serial port" (we keep ours).
        const baud = code === 0 ? this.nvBaud : SOL_BAUD_CODES.get(code);
        if (baud === undefined) return CompletionCode.InvalidDataField;
        if (param === SolParam.NV_BIT_RATE) this.nvBaud = baud;
        const changed = baud !== this.volatileBaud;
        this.volatileBaud = baud;
        if (changed) for (const l of this.#baudListeners) l(baud);
        return CompletionCode.Ok;
      }
      case SolParam.PAYLOAD_CHANNEL:
      case SolParam.PAYLOAD_PORT:
        return CC_PARAM_READ_ONLY;
      default:
        return CC_PARAM_NOT_SUPPORTED;
    }
  }
}
