/**
 * What the chassis remembers between commands and across restarts
 * (`chassis.json` in the state directory): the power restore policy, the
 * last restart cause, the last power state seen, the machine boot id the
 * policy was last applied for, and the chassis identify state (volatile).
 */
import { expectInt, expectObject, expectString, JsonStateFile } from '../state/state-file.js';

/** Power restore policy (IPMI v2.0 §28.8): bits 6:5 of Get Chassis Status byte 1 use the same values. */
export const RestorePolicy = { AlwaysOff: 0, Previous: 1, AlwaysOn: 2, Unknown: 3 } as const;
export type RestorePolicyValue = (typeof RestorePolicy)[keyof typeof RestorePolicy];

/** Restart causes (§28.11, bits 3:0). */
export const RestartCause = {
  Unknown: 0x0,
  ChassisControl: 0x1,
  PowerUpViaButton: 0x3,
  AlwaysOnRestore: 0x6,
  PreviousStateRestore: 0x7,
  SoftReset: 0xa,
} as const;

interface StoredChassis {
  version: 1;
  restorePolicy: number;
  restartCause: number;
  restartChannel: number;
  lastPower: 'on' | 'off' | 'unknown';
  bootId: string;
}

export const CHASSIS_FILE = 'chassis.json';

function validate(raw: unknown): StoredChassis {
  const o = expectObject(raw, 'chassis.json');
  if (o.version !== 1) throw new Error('expected "version": 1');
  const lastPower = o.lastPower;
  if (lastPower !== 'on' && lastPower !== 'off' && lastPower !== 'unknown') throw new Error('lastPower must be on, off or unknown');
  return {
    version: 1,
    restorePolicy: expectInt(o.restorePolicy, 'restorePolicy', 0, 3),
    restartCause: expectInt(o.restartCause, 'restartCause', 0, 0x0f),
    restartChannel: expectInt(o.restartChannel, 'restartChannel', 0, 0x0f),
    lastPower,
    bootId: expectString(o.bootId, 'bootId', 64),
  };
}

export class ChassisState {
  readonly #file: JsonStateFile<StoredChassis>;
  readonly #now: () => number;
  #doc: StoredChassis;
  /** Identify: lit until this time (ms), or indefinitely; off when undefined. */
  #identifyUntil: number | 'forced' | undefined;
  /** Set when the last power-on came from an IPMI command (Get Chassis Status byte 2 bit 4). */
  lastPowerOnByIpmi = false;

  constructor(o: { stateDir?: string; now: () => number }) {
    this.#now = o.now;
    this.#file = new JsonStateFile(o.stateDir, CHASSIS_FILE, validate);
    this.#doc = this.#file.load() ?? { version: 1, restorePolicy: RestorePolicy.AlwaysOff, restartCause: RestartCause.Unknown, restartChannel: 0, lastPower: 'unknown', bootId: '' };
  }

  #save(): void {
    this.#file.save(this.#doc);
  }

  get restorePolicy(): RestorePolicyValue {
    return this.#doc.restorePolicy as RestorePolicyValue;
  }

  setRestorePolicy(p: RestorePolicyValue): void {
    this.#doc.restorePolicy = p;
    this.#save();
  }

  get restartCause(): { cause: number; channel: number } {
    return { cause: this.#doc.restartCause, channel: this.#doc.restartChannel };
  }

  setRestartCause(cause: number, channel: number): void {
    this.#doc.restartCause = cause;
    this.#doc.restartChannel = channel;
    this.#save();
  }

  get lastPower(): 'on' | 'off' | 'unknown' {
    return this.#doc.lastPower;
  }

  /** Remembers the power state seen (written only when it changes). */
  notePower(on: boolean): void {
    const p = on ? 'on' : 'off';
    if (this.#doc.lastPower === p) return;
    this.#doc.lastPower = p;
    this.#save();
  }

  get bootId(): string {
    return this.#doc.bootId;
  }

  setBootId(id: string): void {
    if (this.#doc.bootId === id) return;
    this.#doc.bootId = id;
    this.#save();
  }

  identify(seconds: number | 'forced' | 'off'): void {
    if (seconds === 'off' || seconds === 0) this.#identifyUntil = undefined;
    else if (seconds === 'forced') this.#identifyUntil = 'forced';
    else this.#identifyUntil = this.#now() + seconds * 1000;
  }

  /** Get Chassis Status byte 3 bits 5:4: 00 off, 01 temporarily on, 10 indefinitely on. */
  identifyState(): 0 | 1 | 2 {
    const u = this.#identifyUntil;
    if (u === undefined) return 0;
    if (u === 'forced') return 2;
    return u > this.#now() ? 1 : 0;
  }
}
