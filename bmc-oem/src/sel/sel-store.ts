/**
 * The System Event Log (IPMI v2.0 §31): 16-byte records with BMC-assigned
 * record ids, add and erase timestamps, reservations, and the SEL clock
 * (the system clock plus an offset Set SEL Time adjusts). Kept in
 * `sel.json` in the state directory (0600, rewritten atomically on every
 * change) or in memory without one.
 *
 * When full, Add SEL Entry from a client is refused (0xC4, out of space,
 * and the overflow flag is set), but the BMC's own audit records replace
 * the oldest entry: an operator filling the log must not be able to hide
 * what follows.
 */
import { expectHex, expectInt, expectObject, JsonStateFile } from '../state/state-file.js';

export const SEL_RECORD_BYTES = 16;
/** Record ids 0x0000 (first) and 0xFFFF (last / none) are reserved. */
const FIRST_ID = 1;
const LAST_ID = 0xfffe;
export const SEL_FILE = 'sel.json';

export interface SelEntry {
  id: number;
  /** All 16 bytes, record id included. */
  bytes: Uint8Array;
}

interface StoredSel {
  version: 1;
  nextId: number;
  timeOffsetS: number;
  utcOffsetMin: number;
  lastAddS: number;
  lastEraseS: number;
  overflow: boolean;
  entries: string[];
}

function validate(raw: unknown): StoredSel {
  const o = expectObject(raw, 'sel.json');
  if (o.version !== 1 || !Array.isArray(o.entries)) throw new Error('expected {"version":1,"entries":[...]}');
  const entries = o.entries.map((e, i) => {
    const b = expectHex(e, `entries[${i}]`, SEL_RECORD_BYTES);
    if (b.length !== SEL_RECORD_BYTES) throw new Error(`entries[${i}] must be ${SEL_RECORD_BYTES} bytes`);
    return Buffer.from(b).toString('hex');
  });
  return {
    version: 1,
    nextId: expectInt(o.nextId, 'nextId', FIRST_ID, LAST_ID),
    timeOffsetS: expectInt(o.timeOffsetS, 'timeOffsetS', -0xffffffff, 0xffffffff),
    utcOffsetMin: expectInt(o.utcOffsetMin, 'utcOffsetMin', -1440, 0x7ff),
    lastAddS: expectInt(o.lastAddS, 'lastAddS', 0, 0xffffffff),
    lastEraseS: expectInt(o.lastEraseS, 'lastEraseS', 0, 0xffffffff),
    overflow: o.overflow === true,
    entries,
  };
}

/** Record types whose bytes 3..6 are a timestamp the BMC writes (§31.6): system events and OEM timestamped. */
export function hasTimestamp(recordType: number): boolean {
  return recordType === 0x02 || (recordType >= 0xc0 && recordType <= 0xdf);
}

export class SelStore {
  readonly capacity: number;
  readonly #file: JsonStateFile<StoredSel>;
  readonly #now: () => number;
  #entries: SelEntry[] = [];
  #nextId = FIRST_ID;
  #timeOffsetS = 0;
  #utcOffsetMin = 0;
  #lastAddS = 0;
  #lastEraseS = 0;
  #overflow = false;
  #reservation = 0;
  #reservationCounter = 0;
  /** Own records dropped or that pushed out an old one, for metrics. */
  overwritten = 0;

  constructor(o: { capacity: number; stateDir?: string; now: () => number }) {
    this.capacity = o.capacity;
    this.#now = o.now;
    this.#file = new JsonStateFile(o.stateDir, SEL_FILE, validate);
    const s = this.#file.load();
    if (s !== undefined) {
      this.#entries = s.entries.map((hex) => {
        const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
        return { id: (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8), bytes };
      });
      this.#nextId = s.nextId;
      this.#timeOffsetS = s.timeOffsetS;
      this.#utcOffsetMin = s.utcOffsetMin;
      this.#lastAddS = s.lastAddS;
      this.#lastEraseS = s.lastEraseS;
      this.#overflow = s.overflow;
    }
  }

  #save(): void {
    this.#file.save({
      version: 1,
      nextId: this.#nextId,
      timeOffsetS: this.#timeOffsetS,
      utcOffsetMin: this.#utcOffsetMin,
      lastAddS: this.#lastAddS,
      lastEraseS: this.#lastEraseS,
      overflow: this.#overflow,
      entries: this.#entries.map((e) => Buffer.from(e.bytes).toString('hex')),
    });
  }

  /** The SEL clock: seconds since 1970 (the system clock plus the Set SEL Time offset), a u32. */
  time(): number {
    return (Math.floor(this.#now() / 1000) + this.#timeOffsetS) >>> 0;
  }

  setTime(seconds: number): void {
    this.#timeOffsetS = (seconds >>> 0) - Math.floor(this.#now() / 1000);
    this.#save();
  }

  get utcOffsetMinutes(): number {
    return this.#utcOffsetMin;
  }

  setUtcOffsetMinutes(minutes: number): void {
    this.#utcOffsetMin = minutes;
    this.#save();
  }

  get entries(): readonly SelEntry[] {
    return this.#entries;
  }

  get overflow(): boolean {
    return this.#overflow;
  }

  get lastAddTime(): number {
    return this.#lastAddS;
  }

  get lastEraseTime(): number {
    return this.#lastEraseS;
  }

  get freeBytes(): number {
    return (this.capacity - this.#entries.length) * SEL_RECORD_BYTES;
  }

  #takeId(): number {
    const used = new Set(this.#entries.map((e) => e.id));
    for (let i = 0; i <= LAST_ID; i++) {
      const id = this.#nextId;
      this.#nextId = id >= LAST_ID ? FIRST_ID : id + 1;
      if (!used.has(id)) return id;
    }
    throw new Error('no free SEL record id');
  }

  /**
   * Adds a record: the BMC assigns the id and writes the timestamp of
   * timestamped types. Returns the id, or 'full' for a client's record when
   * the SEL is full (`own` records push out the oldest instead).
   */
  add(record: Uint8Array, own: boolean): number | 'full' {
    if (record.length !== SEL_RECORD_BYTES) throw new RangeError('a SEL record is 16 bytes');
    let pushedOut: SelEntry | undefined;
    if (this.#entries.length >= this.capacity) {
      this.#overflow = true;
      if (!own) {
        this.#save();
        return 'full';
      }
      pushedOut = this.#entries.shift();
      this.overwritten++;
    }
    const bytes = Uint8Array.from(record);
    const id = this.#takeId();
    const t = this.time();
    bytes[0] = id & 0xff;
    bytes[1] = id >>> 8;
    if (hasTimestamp(bytes[2] ?? 0)) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).writeUInt32LE(t, 3);
    const entry = { id, bytes };
    this.#entries.push(entry);
    const lastAdd = this.#lastAddS;
    this.#lastAddS = t;
    try {
      this.#save();
    } catch (err) {
      this.#entries.pop();
      if (pushedOut !== undefined) this.#entries.unshift(pushedOut);
      this.#lastAddS = lastAdd;
      throw err;
    }
    return id;
  }

  /** 0x0000 = first, 0xFFFF = last. */
  find(id: number): { entry: SelEntry; next: number } | undefined {
    if (this.#entries.length === 0) return undefined;
    let i: number;
    if (id === 0x0000) i = 0;
    else if (id === 0xffff) i = this.#entries.length - 1;
    else i = this.#entries.findIndex((e) => e.id === id);
    const entry = this.#entries[i];
    if (entry === undefined) return undefined;
    return { entry, next: this.#entries[i + 1]?.id ?? 0xffff };
  }

  delete(id: number): number | undefined {
    const found = this.find(id);
    if (found === undefined) return undefined;
    this.#entries = this.#entries.filter((e) => e !== found.entry);
    this.#reservation = 0;
    this.#save();
    return found.entry.id;
  }

  clear(): void {
    this.#entries = [];
    this.#overflow = false;
    this.#lastEraseS = this.time();
    this.#reservation = 0;
    this.#save();
  }

  /** A new reservation id (1..0xFFFF); the previous one is cancelled. */
  reserve(): number {
    this.#reservationCounter = this.#reservationCounter >= 0xffff ? 1 : this.#reservationCounter + 1;
    this.#reservation = this.#reservationCounter;
    return this.#reservation;
  }

  reservationValid(id: number): boolean {
    return id !== 0 && id === this.#reservation;
  }
}
