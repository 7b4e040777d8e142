/**
 * The command table (after phosphor-net-ipmid's): handlers keyed by
 * (netfn, cmd, IANA for OEM/Group), each with the privilege it needs and the
 * side(s) it answers on. Transports call `dispatch`; it enforces side,
 * session and privilege rules, strips/adds the IANA of OEM/Group commands and
 * turns a throwing handler into cc 0xFF, so no handler fault reaches a socket.
 */
import { CompletionCode } from './completion-codes.js';
import type { CommandContext, CommandResult, CommandSpec } from './command-types.js';

/** NetFn 0x2E: OEM/Group, keyed by a 3-byte IANA enterprise number (IPMI v2.0 §5.1). */
export const NETFN_OEM_GROUP = 0x2e;

export interface DispatchRequest {
  netfn: number;
  cmd: number;
  data: Uint8Array;
}

/** What dispatch reports besides the result, for logs and metrics. */
export interface DispatchOutcome extends CommandResult {
  data: Uint8Array;
  /** The spec that handled it, or undefined when no command matched. */
  name: string | undefined;
}

export type HandlerFaultListener = (name: string, err: unknown) => void;
/** Told of every answered request (name undefined when nothing matched); for audit observers, never for answers. */
export type DispatchListener = (ctx: CommandContext, req: DispatchRequest, outcome: DispatchOutcome) => void;

/**
 * A number per (netfn, cmd[, IANA]): every request looks one up, and a
 * number keys a Map without building a string. Plain keys are below 2^14;
 * IANA keys start at 2^16 and fit well inside 2^53.
 */
function key(netfn: number, cmd: number, iana: number | undefined): number {
  const plain = netfn * 0x100 + cmd;
  return iana === undefined ? plain : 0x10000 + plain * 0x1000000 + iana;
}

function ianaBytes(iana: number): Uint8Array {
  return Uint8Array.of(iana & 0xff, (iana >>> 8) & 0xff, (iana >>> 16) & 0xff);
}

export class CommandRegistry {
  private readonly specs = new Map<number, CommandSpec>();
  /** (netfn, cmd) pairs that have at least one IANA-keyed handler: a wrong IANA is then 0xCC, not 0xC1. */
  private readonly ianaKeyed = new Set<number>();
  private faultListener: HandlerFaultListener | undefined;
  private dispatchListener: DispatchListener | undefined;

  /** Called with the command name and the error whenever a handler throws (the request gets cc 0xFF). */
  onHandlerFault(listener: HandlerFaultListener): void {
    this.faultListener = listener;
  }

  /** One observer of answered requests (the queue audit); it must not throw and cannot change the answer. */
  onDispatched(listener: DispatchListener): void {
    this.dispatchListener = listener;
  }

  register(spec: CommandSpec): void {
    if (!Number.isInteger(spec.netfn) || spec.netfn < 0 || spec.netfn > 0x3f || spec.netfn % 2 !== 0) {
      throw new RangeError(`${spec.name}: netfn must be an even request NetFn 0x00..0x3E, got ${spec.netfn}`);
    }
    if (!Number.isInteger(spec.cmd) || spec.cmd < 0 || spec.cmd > 0xff) {
      throw new RangeError(`${spec.name}: cmd must be 0..255, got ${spec.cmd}`);
    }
    const isGroup = spec.netfn === NETFN_OEM_GROUP;
    if (isGroup !== (spec.iana !== undefined)) {
      throw new RangeError(`${spec.name}: an IANA number is required for NetFn 0x2E and only there`);
    }
    if (spec.iana !== undefined && (!Number.isInteger(spec.iana) || spec.iana < 0 || spec.iana > 0xffffff)) {
      throw new RangeError(`${spec.name}: IANA must fit 3 bytes, got ${spec.iana}`);
    }
    const k = key(spec.netfn, spec.cmd, spec.iana);
    if (this.specs.has(k)) throw new Error(`command already registered: netfn 0x${spec.netfn.toString(16)} cmd 0x${spec.cmd.toString(16)}${spec.iana === undefined ? '' : ` IANA ${spec.iana}`} (${spec.name})`);
    this.specs.set(k, spec);
    if (isGroup) this.ianaKeyed.add(key(spec.netfn, spec.cmd, undefined));
  }

  /** Every registered command, for docs and tests. */
  list(): readonly CommandSpec[] {
    return [...this.specs.values()];
  }

  lookup(netfn: number, cmd: number, iana?: number): CommandSpec | undefined {
    return this.specs.get(key(netfn, cmd, iana));
  }

  async dispatch(ctx: CommandContext, req: DispatchRequest): Promise<DispatchOutcome> {
    return this.dispatchNow(ctx, req);
  }

  /**
   * dispatch without the promise when the handler answers synchronously
   * (most do): the RMCP+ server then answers within the same turn of the
   * event loop. Same rules, same results as dispatch.
   */
  dispatchNow(ctx: CommandContext, req: DispatchRequest): DispatchOutcome | Promise<DispatchOutcome> {
    const out = this.route(ctx, req);
    const listener = this.dispatchListener;
    if (listener === undefined) return out;
    const tell = (o: DispatchOutcome): DispatchOutcome => {
      try {
        listener(ctx, req, o);
      } catch {
        // an observer's bug never changes or loses an answer
      }
      return o;
    };
    return out instanceof Promise ? out.then(tell) : tell(out);
  }

  private route(ctx: CommandContext, req: DispatchRequest): DispatchOutcome | Promise<DispatchOutcome> {
    let data = req.data;
    let prefix: Uint8Array | undefined;
    let spec: CommandSpec | undefined;
    if (req.netfn === NETFN_OEM_GROUP) {
      if (!this.ianaKeyed.has(key(req.netfn, req.cmd, undefined))) return reply(CompletionCode.InvalidCommand);
      if (data.length < 3) return reply(CompletionCode.RequestLengthInvalid);
      const iana = (data[0] ?? 0) | ((data[1] ?? 0) << 8) | ((data[2] ?? 0) << 16);
      prefix = ianaBytes(iana);
      spec = this.lookup(req.netfn, req.cmd, iana);
      if (spec === undefined) return reply(CompletionCode.InvalidDataField, prefix);
      data = data.subarray(3);
    } else {
      spec = this.lookup(req.netfn, req.cmd);
      if (spec === undefined) return reply(CompletionCode.InvalidCommand);
    }
    if (spec.channel !== 'both' && spec.channel !== ctx.channel) return reply(CompletionCode.InvalidCommand, undefined, spec.name);
    if (ctx.channel === 'lan') {
      if (ctx.session === undefined && spec.preSession !== true) return reply(CompletionCode.InsufficientPrivilege, prefix, spec.name);
      if (ctx.session !== undefined && ctx.privilege < spec.privilege) return reply(CompletionCode.InsufficientPrivilege, prefix, spec.name);
    }
    let result: CommandResult | PromiseLike<CommandResult>;
    try {
      result = spec.handler(ctx, data);
    } catch (err) {
      return this.fault(spec.name, prefix, err);
    }
    if (isPromiseLike(result)) {
      const name = spec.name;
      return Promise.resolve(result).then(
        (r) => finish(r, prefix, name),
        (err: unknown) => this.fault(name, prefix, err),
      );
    }
    return finish(result, prefix, spec.name);
  }

  /** A throwing or rejecting handler: cc 0xFF, and the listener hears of it. */
  private fault(name: string, prefix: Uint8Array | undefined, err: unknown): DispatchOutcome {
    this.faultListener?.(name, err);
    return reply(CompletionCode.Unspecified, prefix, name);
  }
}

function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function finish(result: CommandResult, prefix: Uint8Array | undefined, name: string): DispatchOutcome {
  const cc = Number.isInteger(result.cc) && result.cc >= 0 && result.cc <= 0xff ? result.cc : CompletionCode.Unspecified;
  return reply(cc, prefix, name, result.data);
}

function reply(cc: number, prefix?: Uint8Array, name?: string, body?: Uint8Array): DispatchOutcome {
  let data: Uint8Array;
  if (prefix === undefined) data = body ?? new Uint8Array(0);
  else if (body === undefined || body.length === 0) data = prefix;
  else {
    data = new Uint8Array(prefix.length + body.length);
    data.set(prefix, 0);
    data.set(body, prefix.length);
  }
  return { cc, data, name };
}
