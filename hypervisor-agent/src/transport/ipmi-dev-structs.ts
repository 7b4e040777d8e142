/**
 * The Linux OpenIPMI character-device ABI (include/uapi/linux/ipmi.h), as koffi
 * types. The request/receive structs hold user-space pointers (address and
 * message data), which is why the plain `ioctl` npm package cannot drive
 * /dev/ipmi0: the buffers they point at must live in native memory for the
 * duration of the ioctl. Layouts are for LP64 Linux (x86_64, aarch64); the
 * tests compare them with the C compiler's view of the real header.
 */
import koffi from 'koffi';

export const IPMI_SYSTEM_INTERFACE_ADDR_TYPE = 0x0c;
export const IPMI_BMC_CHANNEL = 0x0f;
export const IPMI_MAX_ADDR_SIZE = 32;
/** Largest message the driver passes (IPMI_MAX_MSG_LENGTH). */
export const IPMI_MAX_MSG_LENGTH = 272;
export const IPMI_RESPONSE_RECV_TYPE = 1;
export const IPMI_ASYNC_EVENT_RECV_TYPE = 2;
export const IPMI_CMD_RECV_TYPE = 3;

/** asm-generic/ioctl.h: dir(2) | size(14) | type(8) | nr(8). */
const IOC_WRITE = 1;
const IOC_READ = 2;
export function ioc(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) >>> 0) + ((size & 0x3fff) << 16) + ((type & 0xff) << 8) + (nr & 0xff);
}
const IPMI_IOC_MAGIC = 'i'.charCodeAt(0);

/* struct ipmi_system_interface_addr { int addr_type; short channel; unsigned char lun; }; */
export const IpmiSystemInterfaceAddr = koffi.struct('ipmi_system_interface_addr', {
  addr_type: 'int',
  channel: 'short',
  lun: 'uint8_t',
});

/* struct ipmi_addr { int addr_type; short channel; char data[IPMI_MAX_ADDR_SIZE]; }; */
export const IpmiAddr = koffi.struct('ipmi_addr', {
  addr_type: 'int',
  channel: 'short',
  data: koffi.array('char', IPMI_MAX_ADDR_SIZE, 'Array'),
});

/* struct ipmi_msg { unsigned char netfn; unsigned char cmd; unsigned short data_len; unsigned char *data; }; */
export const IpmiMsg = koffi.struct('ipmi_msg', {
  netfn: 'uint8_t',
  cmd: 'uint8_t',
  data_len: 'uint16_t',
  data: 'void *',
});

/* struct ipmi_req { unsigned char *addr; unsigned int addr_len; long msgid; struct ipmi_msg msg; }; */
export const IpmiReq = koffi.struct('ipmi_req', {
  addr: 'void *',
  addr_len: 'uint',
  msgid: 'long',
  msg: IpmiMsg,
});

/* struct ipmi_recv { int recv_type; unsigned char *addr; unsigned int addr_len; long msgid; struct ipmi_msg msg; }; */
export const IpmiRecv = koffi.struct('ipmi_recv', {
  recv_type: 'int',
  addr: 'void *',
  addr_len: 'uint',
  msgid: 'long',
  msg: IpmiMsg,
});

export const IPMICTL_RECEIVE_MSG_TRUNC = ioc(IOC_READ | IOC_WRITE, IPMI_IOC_MAGIC, 11, koffi.sizeof(IpmiRecv));
export const IPMICTL_RECEIVE_MSG = ioc(IOC_READ | IOC_WRITE, IPMI_IOC_MAGIC, 12, koffi.sizeof(IpmiRecv));
export const IPMICTL_SEND_COMMAND = ioc(IOC_READ, IPMI_IOC_MAGIC, 13, koffi.sizeof(IpmiReq));
export const IPMICTL_SET_GETS_EVENTS_CMD = ioc(IOC_READ, IPMI_IOC_MAGIC, 16, koffi.sizeof('int'));

/* struct pollfd { int fd; short events; short revents; }; */
export const PollFd = koffi.struct('pollfd', { fd: 'int', events: 'short', revents: 'short' });
export const POLLIN = 0x0001;
export const POLLERR = 0x0008;
export const POLLHUP = 0x0010;
