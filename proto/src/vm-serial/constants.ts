/**
 * OpenIPMI "VM" serial protocol constants (PROTOCOL.md §4), as defined by
 * OpenIPMI lanserv/serial_ipmi.c (codec "VM") and QEMU hw/ipmi/ipmi_bmc_extern.c.
 */

/** Framing characters. An IPMI message ends with 0xA0, a control command with 0xA1. */
export const VmChar = {
  MessageEnd: 0xa0,
  ControlEnd: 0xa1,
  /** The next byte had bit 4 set to escape it; clear bit 4 to get the original. */
  Escape: 0xaa,
} as const;

/** Bit set on an escaped byte (0xA0→0xB0, 0xA1→0xB1, 0xAA→0xBA). */
export const VM_ESCAPE_BIT = 0x10;

export const VM_PROTOCOL_VERSION = 1;

/**
 * Control command codes (first byte of a control frame). Direction in
 * brackets: BMC = sent by the BMC to the host/VM, VM = sent by the VM side.
 */
export const VmControlCode = {
  /** [both] version; one operand byte (1). */
  Version: 0xff,
  /** [BMC] clear the SMS_ATN bit. */
  NoAttn: 0x00,
  /** [BMC] set the SMS_ATN bit. */
  Attn: 0x01,
  /** [BMC] set SMS_ATN and raise the interface interrupt if enabled. */
  AttnIrq: 0x02,
  /** [BMC] power the VM off; [VM] — */
  PowerOff: 0x03,
  /** [BMC] reset the VM; [VM] the VM was reset. */
  Reset: 0x04,
  /** [BMC] enable the message interrupt on the system interface. */
  EnableIrq: 0x05,
  /** [BMC] disable the message interrupt. */
  DisableIrq: 0x06,
  /** [BMC] send an NMI to the VM. */
  SendNmi: 0x07,
  /** [VM] capabilities; one operand byte of VmCapability bits. */
  Capabilities: 0x08,
  /**
   * [BMC] 0x09: OpenIPMI calls it FORCEOFF, current QEMU GRACEFUL_SHUTDOWN
   * (an ACPI shutdown request). Only sent when the VM announced
   * VmCapability.GracefulShutdown.
   */
  GracefulShutdown: 0x09,
} as const;

/** Capability bits carried by VmControlCode.Capabilities. */
export const VmCapability = {
  Power: 0x01,
  Reset: 0x02,
  Irq: 0x04,
  Nmi: 0x08,
  Attn: 0x10,
  GracefulShutdown: 0x20,
} as const;

/** Largest unescaped frame a decoder accepts by default (IPMI messages are far smaller). */
export const VM_DEFAULT_MAX_FRAME_BYTES = 512;
