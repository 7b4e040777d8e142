/**
 * bmc-oem's own SEL records. They are standard system event records (type
 * 02h, IPMI v2.0 §32.1) carrying OEM events (event/reading type 70h) of the
 * "BMC Audit" sensor (OEM sensor type C0h, sensor number 3, listed in the
 * SDR), so every client decodes them: ipmitool and FreeIPMI name the
 * sensor, and pyghmi, which fails on OEM record types C0h-FFh, reads them.
 * Event data 1 says what happened (bits 3:0) and that bytes 2 and 3 hold
 * OEM data (bits 7:4 = 1010b). docs/bmc-oem.md, "SEL records bmc-oem
 * writes", has the table.
 *
 *   0-1 record id, 2 type 02h, 3-6 timestamp, 7-8 generator 20h 00h (BMC),
 *   9 EvM rev 04h, 10 sensor type C0h, 11 sensor number 03h,
 *   12 event dir/type 70h (assertion, OEM), 13 data 1, 14 data 2, 15 data 3
 */
export const SYSTEM_EVENT_RECORD = 0x02;
export const BMC_AUDIT_SENSOR_TYPE = 0xc0;
export const BMC_AUDIT_SENSOR_NUMBER = 0x03;
export const OEM_EVENT_TYPE = 0x70;
const BMC_GENERATOR_ID = 0x20;
const EVM_REV = 0x04;
/** Event data 1 bits 7:6 = 10b and 5:4 = 10b: data 2 and 3 are OEM codes. */
const OEM_DATA_FLAGS = 0xa0;

export const BmcEventCode = {
  /** data 2: why (0 process start, 1 cold reset, 2 warm reset). */
  Started: 0x1,
  /** data 2: Chassis Control action (0 off .. 5 soft) + 80h if it failed; data 3: user id (0 = the host side). */
  HostPower: 0x2,
  /** data 2: user id; data 3: last byte of the source's IPv4 address (0 for IPv6). */
  LoginThrottled: 0x3,
  /** data 2: last byte of the newcomer's IPv4 address (0 for unix sockets and IPv6). */
  HostLinkTakeover: 0x4,
  /** data 2: queue; data 3: low byte of the seq that was put again with different bytes. */
  QueueSeqCollision: 0x5,
  /** data 2: user id changed; data 3: what (1 name, 2 password, 3 enabled, 4 disabled, 5 access) + 10h from the LAN, 20h from the host. */
  UserChanged: 0x6,
} as const;

export type BmcEventCodeValue = (typeof BmcEventCode)[keyof typeof BmcEventCode];

/** All the codes, as the "BMC Audit" sensor's event offsets (bit n = code n). */
export const BMC_AUDIT_OFFSETS = Object.values(BmcEventCode).reduce((mask, code) => mask | (1 << code), 0);

export function encodeBmcEvent(code: BmcEventCodeValue, data2 = 0, data3 = 0): Uint8Array {
  const r = new Uint8Array(16);
  r[2] = SYSTEM_EVENT_RECORD;
  r[7] = BMC_GENERATOR_ID;
  r[8] = 0x00; // channel 0, LUN 0
  r[9] = EVM_REV;
  r[10] = BMC_AUDIT_SENSOR_TYPE;
  r[11] = BMC_AUDIT_SENSOR_NUMBER;
  r[12] = OEM_EVENT_TYPE;
  r[13] = OEM_DATA_FLAGS | (code & 0x0f);
  r[14] = data2 & 0xff;
  r[15] = data3 & 0xff;
  return r;
}

/** The last byte of an IPv4 address (the part that tells hosts on one subnet apart), 0 otherwise. */
export function lastAddressByte(address: string | undefined): number {
  const m = /(?:^|:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address ?? '');
  return m === null ? 0 : Number(m[4]) & 0xff;
}
