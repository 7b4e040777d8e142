/**
 * BmcTransport over the Linux OpenIPMI driver (/dev/ipmi0): IPMICTL_SEND_COMMAND,
 * poll(2) on the fd, IPMICTL_RECEIVE_MSG_TRUNC, through koffi. The blocking
 * poll runs on koffi's worker thread (`.async`) so the event loop never stalls.
 *
 * Attention: the kernel's KCS driver answers the BMC's ATN itself (Get Message
 * Flags) and has no user-space hook for the OEM0 flag, so this transport never
 * fires `onAttention`; the queue client's adaptive polling covers it.
 */
import { constants as osConstants } from 'node:os';
import koffi from 'koffi';
import type { BmcTransport } from './bmc-transport.js';
import {
  IPMI_BMC_CHANNEL,
  IPMI_MAX_MSG_LENGTH,
  IPMI_RESPONSE_RECV_TYPE,
  IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
  IPMICTL_RECEIVE_MSG_TRUNC,
  IPMICTL_SEND_COMMAND,
  IpmiAddr,
  IpmiRecv,
  IpmiReq,
  IpmiSystemInterfaceAddr,
  POLLERR,
  POLLHUP,
  POLLIN,
  PollFd,
} from './ipmi-dev-structs.js';

const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;
const EMSGSIZE = osConstants.errno.EMSGSIZE;
const EINTR = osConstants.errno.EINTR;
const EAGAIN = osConstants.errno.EAGAIN;

interface Libc {
  open: koffi.KoffiFunction;
  close: koffi.KoffiFunction;
  ioctl: koffi.KoffiFunction;
  poll: koffi.KoffiFunction;
  strerror: koffi.KoffiFunction;
}

let libc: Libc | undefined;
function loadLibc(): Libc {
  if (!libc) {
    const lib = koffi.load(process.platform === 'linux' ? 'libc.so.6' : 'libc.dylib');
    libc = {
      open: lib.func('int open(const char *path, int flags, ...)'),
      close: lib.func('int close(int fd)'),
      ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
      poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
      strerror: lib.func('const char *strerror(int errnum)'),
    };
  }
  return libc;
}

export class IpmiDeviceError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(code: string, errno: number, message: string) {
    super(message);
    this.name = 'IpmiDeviceError';
    this.code = code;
    this.errno = errno;
  }
}

function errnoError(c: Libc, what: string, path: string): IpmiDeviceError {
  const errno = koffi.errno();
  const text = c.strerror(errno) as string;
  const hint =
    errno === osConstants.errno.ENOENT
      ? ' (no IPMI device: load ipmi_si and ipmi_devintf, or use a vm+tcp:// / vm+serial:// link)'
      : errno === osConstants.errno.EACCES
        ? ' (permission denied: run as root or grant the agent access to the device)'
        : '';
  return new IpmiDeviceError(`ERR_IPMI_DEV_${what.toUpperCase()}`, errno, `${what} ${path}: ${text}${hint}`);
}

/** Encodes the system-interface address the driver expects for "the local BMC". */
export function systemInterfaceAddress(lun = 0): { addr_type: number; channel: number; lun: number } {
  return { addr_type: IPMI_SYSTEM_INTERFACE_ADDR_TYPE, channel: IPMI_BMC_CHANNEL, lun };
}

export interface IpmiDeviceOptions {
  path?: string;
  /** How long to wait for one response (default 5 s). */
  timeoutMs?: number;
}

export class IpmiDeviceTransport implements BmcTransport {
  readonly description: string;
  readonly #c: Libc;
  readonly #path: string;
  readonly #timeoutMs: number;
  #fd: number;
  #msgid = 0;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(c: Libc, path: string, fd: number, timeoutMs: number) {
    this.#c = c;
    this.#path = path;
    this.#fd = fd;
    this.#timeoutMs = timeoutMs;
    this.description = `ipmi://${path}`;
  }

  /** Opens the device; throws IpmiDeviceError (ERR_IPMI_DEV_OPEN) with the reason when it cannot. */
  static open(options: IpmiDeviceOptions = {}): IpmiDeviceTransport {
    const path = options.path ?? '/dev/ipmi0';
    const c = loadLibc();
    const fd = c.open(path, O_RDWR | O_CLOEXEC) as number;
    if (fd < 0) throw errnoError(c, 'open', path);
    return new IpmiDeviceTransport(c, path, fd, options.timeoutMs ?? 5000);
  }

  request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }> {
    // One request in flight: responses are matched by msgid anyway, but the
    // BMC side is a single KCS interface and ordering keeps the logs readable.
    const run = this.#queue.then(() => this.#exchange(netfn, cmd, data));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  onAttention(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    if (this.#fd >= 0) {
      this.#c.close(this.#fd);
      this.#fd = -1;
    }
  }

  async #exchange(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }> {
    if (this.#fd < 0) throw new IpmiDeviceError('ERR_IPMI_DEV_CLOSED', 0, `${this.#path} is closed`);
    if (data.length > IPMI_MAX_MSG_LENGTH) throw new RangeError(`request data of ${data.length} bytes exceeds ${IPMI_MAX_MSG_LENGTH}`);
    this.#msgid = (this.#msgid + 1) % 0x7fffffff;
    const msgid = this.#msgid;
    const sent = sendCommand(this.#c, this.#fd, this.#path, msgid, netfn, cmd, data);
    if (sent) throw sent;
    const deadline = Date.now() + this.#timeoutMs;
    while (true) {
      const left = deadline - Date.now();
      if (left <= 0) throw new IpmiDeviceError('ERR_IPMI_DEV_TIMEOUT', 0, `no response from the BMC on ${this.#path} within ${this.#timeoutMs} ms`);
      const ready = await pollReadable(this.#c, this.#fd, left);
      if (ready === 'error') throw new IpmiDeviceError('ERR_IPMI_DEV_POLL', 0, `poll on ${this.#path} reported an error or hang-up`);
      if (ready === 'timeout') continue;
      const received = receiveMessage(this.#c, this.#fd, this.#path);
      if (received === undefined) continue; // EAGAIN: someone else took it
      if (received.recvType !== IPMI_RESPONSE_RECV_TYPE || received.msgid !== msgid) continue;
      const bytes = received.data;
      if (bytes.length < 1) throw new IpmiDeviceError('ERR_IPMI_DEV_SHORT', 0, 'response without a completion code');
      return { cc: bytes[0] ?? 0xff, data: bytes.subarray(1) };
    }
  }
}

/** Builds struct ipmi_req in native memory and issues IPMICTL_SEND_COMMAND. */
function sendCommand(c: Libc, fd: number, path: string, msgid: number, netfn: number, cmd: number, data: Uint8Array): IpmiDeviceError | undefined {
  const addr = koffi.alloc(IpmiSystemInterfaceAddr, 1);
  const payload = koffi.alloc('uint8_t', Math.max(1, data.length));
  const req = koffi.alloc(IpmiReq, 1);
  try {
    koffi.encode(addr, IpmiSystemInterfaceAddr, systemInterfaceAddress());
    if (data.length > 0) koffi.encode(payload, koffi.array('uint8_t', data.length, 'Typed'), data);
    koffi.encode(req, IpmiReq, {
      addr,
      addr_len: koffi.sizeof(IpmiSystemInterfaceAddr),
      msgid,
      msg: { netfn, cmd, data_len: data.length, data: payload },
    });
    while (true) {
      const rc = c.ioctl(fd, IPMICTL_SEND_COMMAND, 'void *', req) as number;
      if (rc >= 0) return undefined;
      if (koffi.errno() !== EINTR) return errnoError(c, 'send', path);
    }
  } finally {
    koffi.free(req);
    koffi.free(payload);
    koffi.free(addr);
  }
}

function receiveMessage(c: Libc, fd: number, path: string): { recvType: number; msgid: number; data: Uint8Array } | undefined {
  const addr = koffi.alloc(IpmiAddr, 1);
  const payload = koffi.alloc('uint8_t', IPMI_MAX_MSG_LENGTH);
  const recv = koffi.alloc(IpmiRecv, 1);
  try {
    koffi.encode(recv, IpmiRecv, {
      recv_type: 0,
      addr,
      addr_len: koffi.sizeof(IpmiAddr),
      msgid: 0,
      msg: { netfn: 0, cmd: 0, data_len: IPMI_MAX_MSG_LENGTH, data: payload },
    });
    const rc = c.ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, 'void *', recv) as number;
    if (rc < 0) {
      const errno = koffi.errno();
      if (errno === EAGAIN || errno === EINTR) return undefined;
      // EMSGSIZE with _TRUNC means "delivered, cut to the buffer": keep it.
      if (errno !== EMSGSIZE) throw errnoError(c, 'receive', path);
    }
    const out = koffi.decode(recv, IpmiRecv) as { recv_type: number; msgid: number; msg: { data_len: number } };
    const length = Math.min(out.msg.data_len, IPMI_MAX_MSG_LENGTH);
    const bytes = length > 0 ? Uint8Array.from(koffi.decode(payload, koffi.array('uint8_t', length, 'Typed')) as Uint8Array) : new Uint8Array();
    return { recvType: out.recv_type, msgid: Number(out.msgid), data: bytes };
  } finally {
    koffi.free(recv);
    koffi.free(payload);
    koffi.free(addr);
  }
}

function pollReadable(c: Libc, fd: number, timeoutMs: number): Promise<'ready' | 'timeout' | 'error'> {
  const fds = koffi.alloc(PollFd, 1);
  koffi.encode(fds, PollFd, { fd, events: POLLIN, revents: 0 });
  return new Promise((resolve, reject) => {
    c.poll.async(fds, 1, Math.min(timeoutMs, 1000), (err: unknown, rc: number) => {
      try {
        if (err) return reject(err as Error);
        if (rc < 0) return resolve(koffi.errno() === EINTR ? 'timeout' : 'error');
        if (rc === 0) return resolve('timeout');
        const { revents } = koffi.decode(fds, PollFd) as { revents: number };
        resolve((revents & (POLLERR | POLLHUP)) !== 0 && (revents & POLLIN) === 0 ? 'error' : 'ready');
      } finally {
        koffi.free(fds);
      }
    });
  });
}
