import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import {
  IPMICTL_RECEIVE_MSG,
  IPMICTL_RECEIVE_MSG_TRUNC,
  IPMICTL_SEND_COMMAND,
  IPMICTL_SET_GETS_EVENTS_CMD,
  IpmiMsg,
  IpmiRecv,
  IpmiReq,
  IpmiSystemInterfaceAddr,
  IpmiAddr,
} from '../src/transport/ipmi-dev-structs.js';
import { IpmiDeviceTransport } from '../src/transport/ipmi-dev-transport.js';
import { tempDir } from './helpers/temp-dir.js';

const hasCompiler = existsSync('/usr/bin/gcc') && existsSync('/usr/include/linux/ipmi.h');

describe('OpenIPMI ABI (LP64)', () => {
  it('matches the ioctl numbers of linux/ipmi.h on LP64 (as ipmitool uses them)', () => {
    expect(IPMICTL_SEND_COMMAND).toBe(0x8028690d);
    expect(IPMICTL_RECEIVE_MSG_TRUNC).toBe(0xc030690b);
    expect(IPMICTL_RECEIVE_MSG).toBe(0xc030690c);
    expect(IPMICTL_SET_GETS_EVENTS_CMD).toBe(0x80046910);
  });

  it('has the kernel struct sizes and member offsets', () => {
    expect(koffi.sizeof(IpmiMsg)).toBe(16);
    expect(koffi.sizeof(IpmiReq)).toBe(40);
    expect(koffi.sizeof(IpmiRecv)).toBe(48);
    expect(koffi.sizeof(IpmiSystemInterfaceAddr)).toBe(8);
    expect(koffi.sizeof(IpmiAddr)).toBe(40);
    expect(koffi.offsetof(IpmiReq, 'msgid')).toBe(16);
    expect(koffi.offsetof(IpmiReq, 'msg')).toBe(24);
    expect(koffi.offsetof(IpmiRecv, 'addr')).toBe(8);
    expect(koffi.offsetof(IpmiRecv, 'msg')).toBe(32);
    expect(koffi.offsetof(IpmiMsg, 'data')).toBe(8);
  });

  describe.skipIf(!hasCompiler)('against the C compiler and the installed header (needs gcc + linux-libc-dev)', () => {
    it('agrees with sizeof/offsetof/ioctl values compiled from <linux/ipmi.h>', () => {
      const dir = tempDir('ipmi-abi-');
      writeFileSync(
        join(dir, 'abi.c'),
        `#include <stdio.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/ipmi.h>
int main(void){printf("%zu %zu %zu %zu %zu %zu %zu %lu %lu\\n",sizeof(struct ipmi_req),sizeof(struct ipmi_recv),sizeof(struct ipmi_msg),
sizeof(struct ipmi_system_interface_addr),offsetof(struct ipmi_req,msg),offsetof(struct ipmi_recv,msg),offsetof(struct ipmi_recv,msgid),
(unsigned long)IPMICTL_SEND_COMMAND,(unsigned long)IPMICTL_RECEIVE_MSG_TRUNC);return 0;}`,
      );
      execFileSync('gcc', ['-o', join(dir, 'abi'), join(dir, 'abi.c')]);
      const values = execFileSync(join(dir, 'abi'), { encoding: 'utf8' }).trim().split(' ').map(Number);
      expect(values).toEqual([
        koffi.sizeof(IpmiReq),
        koffi.sizeof(IpmiRecv),
        koffi.sizeof(IpmiMsg),
        koffi.sizeof(IpmiSystemInterfaceAddr),
        koffi.offsetof(IpmiReq, 'msg'),
        koffi.offsetof(IpmiRecv, 'msg'),
        koffi.offsetof(IpmiRecv, 'msgid'),
        IPMICTL_SEND_COMMAND,
        IPMICTL_RECEIVE_MSG_TRUNC,
      ]);
    });
  });

  it('round-trips a receive struct through native memory with its pointers intact', () => {
    const payload = koffi.alloc('uint8_t', 4);
    const recv = koffi.alloc(IpmiRecv, 1);
    koffi.encode(payload, koffi.array('uint8_t', 4, 'Typed'), new Uint8Array([0, 0xd9, 0x7e, 0]));
    koffi.encode(recv, IpmiRecv, { recv_type: 1, addr: null, addr_len: 8, msgid: 77, msg: { netfn: 0x2f, cmd: 1, data_len: 4, data: payload } });
    const out = koffi.decode(recv, IpmiRecv) as { recv_type: number; msgid: number; msg: { netfn: number; data_len: number; data: unknown } };
    expect(out.recv_type).toBe(1);
    expect(Number(out.msgid)).toBe(77);
    expect(out.msg.netfn).toBe(0x2f);
    expect(Array.from(koffi.decode(out.msg.data, koffi.array('uint8_t', out.msg.data_len, 'Typed')) as Uint8Array)).toEqual([0, 0xd9, 0x7e, 0]);
    koffi.free(recv);
    koffi.free(payload);
  });
});

describe('IpmiDeviceTransport without a device', () => {
  it('fails to open a missing device with a clear error', () => {
    expect(() => IpmiDeviceTransport.open({ path: '/dev/ipmi-does-not-exist' })).toThrow(/open \/dev\/ipmi-does-not-exist: No such file or directory \(no IPMI device/);
    try {
      IpmiDeviceTransport.open({ path: '/dev/ipmi-does-not-exist' });
    } catch (err) {
      expect((err as { code: string }).code).toBe('ERR_IPMI_DEV_OPEN');
    }
  });

  it('issues a real IPMICTL_SEND_COMMAND ioctl and reports the kernel refusal of a non-IPMI fd', async () => {
    const transport = IpmiDeviceTransport.open({ path: '/dev/null', timeoutMs: 200 });
    expect(transport.description).toBe('ipmi:///dev/null');
    await expect(transport.request(0x2e, 0x00, new Uint8Array([0xd9, 0x7e, 0x00, 0x01]))).rejects.toThrow(/send \/dev\/null: Inappropriate ioctl for device/);
    await transport.close();
    await expect(transport.request(0x06, 0x01, new Uint8Array())).rejects.toThrow(/closed/);
  });
});
