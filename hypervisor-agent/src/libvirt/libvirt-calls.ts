/**
 * The libvirt operations a worker thread runs, each a short sequence of
 * blocking C calls (look the domain up, act, free it). A failed call throws
 * `WorkerFailure` with what virGetLastError() holds on this thread right
 * after it, so the code is libvirt's own virErrorNumber, never guessed from
 * the message.
 */
import koffi from 'koffi';
import { cFree, type Handle, libvirt, VirError } from './libvirt-ffi.js';
import { VIR_ERR_NO_DOMAIN, type VirErrorFields } from './libvirt-errors.js';

/** A domain as a worker describes it (plain data: it crosses threads). */
export interface DomainRecord {
  name: string;
  uuid: string;
  state: number;
  /** libvirt's domain id while running, -1 otherwise. */
  id: number;
  vcpus: number;
  memoryKib: number;
  maxMemoryKib: number;
  persistent: boolean;
}

export type DomainVerb = 'create' | 'shutdown' | 'destroy' | 'suspend' | 'resume' | 'reboot' | 'reset';

/** What an `apply` found: the domain before, libvirt's error if the verb failed, and the domain right after. */
export interface AppliedRecord {
  before: DomainRecord;
  actError?: VirErrorFields;
  after: DomainRecord | { gone: true } | { error: VirErrorFields };
}

export type CallRequest =
  | { op: 'open'; uri: string }
  | { op: 'close'; conn: Handle }
  | { op: 'alive'; conn: Handle }
  | { op: 'list'; conn: Handle }
  | { op: 'lookup'; conn: Handle; name: string }
  | { op: 'describe'; conn: Handle; uuid: string }
  | { op: 'act'; conn: Handle; uuid: string; verb: DomainVerb }
  | { op: 'apply'; conn: Handle; uuid: string; verb: DomainVerb }
  | { op: 'version' };

export class WorkerFailure extends Error {
  constructor(readonly fields: VirErrorFields) {
    super(fields.message);
  }
}

/** Throws what libvirt recorded for the call that just failed on this thread. */
function fail(what: string): never {
  const lv = libvirt();
  const ptr = lv.virGetLastError();
  const err = ptr ? (koffi.decode(ptr, VirError) as { code: number; domain: number; message: string | null }) : undefined;
  throw new WorkerFailure(err && err.code !== 0 ? { code: err.code, domain: err.domain, message: err.message ?? what } : { code: 1, domain: 0, message: `${what} failed without a libvirt error` });
}

function check(result: number, what: string): void {
  if (result < 0) fail(what);
}

function describe(dom: Handle): DomainRecord {
  const lv = libvirt();
  const name = lv.virDomainGetName(dom) as string | null;
  if (name === null) fail('virDomainGetName');
  const buf = Buffer.alloc(37);
  check(lv.virDomainGetUUIDString(dom, buf) as number, 'virDomainGetUUIDString');
  const info: { state?: number; maxMem?: number; memory?: number; nrVirtCpu?: number } = {};
  check(lv.virDomainGetInfo(dom, info) as number, 'virDomainGetInfo');
  const id = lv.virDomainGetID(dom) as number;
  const persistent = lv.virDomainIsPersistent(dom) as number;
  return {
    name,
    uuid: buf.toString('latin1', 0, 36),
    state: info.state ?? 0,
    id: id === 0xffffffff ? -1 : id,
    vcpus: info.nrVirtCpu ?? 0,
    memoryKib: Number(info.memory ?? 0),
    maxMemoryKib: Number(info.maxMem ?? 0),
    persistent: persistent === 1,
  };
}

function withDomain<T>(dom: Handle, what: string, fn: (dom: Handle) => T): T {
  if (!dom) fail(what);
  try {
    return fn(dom);
  } finally {
    libvirt().virDomainFree(dom);
  }
}

function act(dom: Handle, verb: DomainVerb): void {
  const lv = libvirt();
  switch (verb) {
    case 'create':
      return check(lv.virDomainCreate(dom) as number, 'virDomainCreate');
    case 'shutdown':
      return check(lv.virDomainShutdown(dom) as number, 'virDomainShutdown');
    case 'destroy':
      return check(lv.virDomainDestroy(dom) as number, 'virDomainDestroy');
    case 'suspend':
      return check(lv.virDomainSuspend(dom) as number, 'virDomainSuspend');
    case 'resume':
      return check(lv.virDomainResume(dom) as number, 'virDomainResume');
    case 'reboot':
      return check(lv.virDomainReboot(dom, 0) as number, 'virDomainReboot');
    case 'reset':
      return check(lv.virDomainReset(dom, 0) as number, 'virDomainReset');
  }
}

/** The domain with this UUID described, `{gone}` when libvirt no longer knows it, or why it could not be looked at. */
function lookAfter(conn: Handle, uuid: string): AppliedRecord['after'] {
  const lv = libvirt();
  lv.virResetLastError();
  try {
    return withDomain(lv.virDomainLookupByUUIDString(conn, uuid) as Handle, 'virDomainLookupByUUIDString', describe);
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    return err.fields.code === VIR_ERR_NO_DOMAIN ? { gone: true } : { error: err.fields };
  }
}

/**
 * Describe, act, describe again: one trip to this thread where three cost
 * three pairs of thread wake-ups (docs/benchmarks.md "link-cost"). Each step
 * looks the domain up by UUID, as the separate calls did; a failed look
 * before the action throws (nothing was done), a failed action is returned
 * with the look after it.
 */
function apply(conn: Handle, uuid: string, verb: DomainVerb): AppliedRecord {
  const lv = libvirt();
  const before = withDomain(lv.virDomainLookupByUUIDString(conn, uuid) as Handle, 'virDomainLookupByUUIDString', describe);
  let actError: VirErrorFields | undefined;
  lv.virResetLastError();
  try {
    withDomain(lv.virDomainLookupByUUIDString(conn, uuid) as Handle, 'virDomainLookupByUUIDString', (dom) => act(dom, verb));
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    actError = err.fields;
  }
  return { before, ...(actError ? { actError } : {}), after: lookAfter(conn, uuid) };
}

/** Runs one request on the calling thread (a worker); returns plain data or throws WorkerFailure. */
export function runCall(req: CallRequest): unknown {
  const lv = libvirt();
  lv.virResetLastError();
  switch (req.op) {
    case 'open': {
      const conn = lv.virConnectOpen(req.uri) as Handle;
      if (!conn) fail('virConnectOpen');
      // Keepalive needs the event loop (libvirt-events.ts); it lets a dead libvirtd be noticed
      // without a call timing out. Drivers without it (test:///) just say no.
      lv.virConnectSetKeepAlive(conn, 5, 3);
      lv.virResetLastError();
      return conn;
    }
    case 'close':
      lv.virConnectClose(req.conn);
      return null;
    case 'alive':
      return (lv.virConnectIsAlive(req.conn) as number) === 1;
    case 'list': {
      const out: unknown[] = [null];
      const n = lv.virConnectListAllDomains(req.conn, out, 0) as number;
      if (n < 0) fail('virConnectListAllDomains');
      const handles = n > 0 ? (koffi.decode(out[0], 'uintptr_t', n) as Handle[]) : [];
      try {
        const records: DomainRecord[] = [];
        for (const dom of handles) {
          try {
            records.push(describe(dom));
          } catch (err) {
            // A domain that vanished between the listing and its description (a transient
            // guest powering off) is simply not listed.
            if (!(err instanceof WorkerFailure && err.fields.code === VIR_ERR_NO_DOMAIN)) throw err;
          }
        }
        return records;
      } finally {
        for (const dom of handles) lv.virDomainFree(dom);
        if (out[0]) cFree(out[0]);
      }
    }
    case 'lookup':
      return withDomain(lv.virDomainLookupByName(req.conn, req.name) as Handle, 'virDomainLookupByName', describe);
    case 'describe':
      return withDomain(lv.virDomainLookupByUUIDString(req.conn, req.uuid) as Handle, 'virDomainLookupByUUIDString', describe);
    case 'act':
      return withDomain(lv.virDomainLookupByUUIDString(req.conn, req.uuid) as Handle, 'virDomainLookupByUUIDString', (dom) => act(dom, req.verb));
    case 'apply':
      return apply(req.conn, req.uuid, req.verb);
    case 'version': {
      const libVer = [0];
      const typeVer = [0];
      if ((lv.virGetVersion(libVer, null, typeVer) as number) !== 0) return '';
      const v = Number(libVer[0]);
      return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
    }
  }
}
