/**
 * App NetFn commands that describe the device: Get Device ID (§20.1), Get
 * Self Test Results (§20.4), Get Device GUID (§20.8) and Get System GUID
 * (§22.14). They answer on both sides: the Linux KCS driver asks for the
 * device id when it brings up /dev/ipmi0.
 */
import { CompletionCode } from './completion-codes.js';
import type { CommandHandler } from './command-types.js';
import type { CommandRegistry } from './registry.js';
import type { DeviceIdentity } from './device-identity.js';
import { Privilege } from './privilege.js';

export const NETFN_APP = 0x06;

export const AppCmd = {
  GetDeviceId: 0x01,
  GetSelfTestResults: 0x04,
  GetDeviceGuid: 0x08,
  GetSystemGuid: 0x37,
} as const;

/** Byte 6 of Get Device ID (§20.1): the functions this controller has. */
export const DeviceSupport = {
  SensorDevice: 0x01,
  SdrRepository: 0x02,
  SelDevice: 0x04,
  FruInventory: 0x08,
  Chassis: 0x80,
} as const;
/** What the full daemon has: chassis, FRU, SEL, SDR repository, sensors. */
export const FULL_DEVICE_SUPPORT = DeviceSupport.Chassis | DeviceSupport.FruInventory | DeviceSupport.SelDevice | DeviceSupport.SdrRepository | DeviceSupport.SensorDevice;
/** IPMI version 2.0, BCD low nibble first (§20.1: 02h = 2.0). */
const IPMI_VERSION_2_0 = 0x02;

function bcd(n: number): number {
  const v = Math.max(0, Math.min(99, Math.trunc(n)));
  return ((Math.trunc(v / 10) & 0x0f) << 4) | (v % 10);
}

export function encodeDeviceId(id: DeviceIdentity, support: number = DeviceSupport.Chassis): Uint8Array {
  return Uint8Array.of(
    id.deviceId & 0xff,
    id.deviceRevision & 0x0f, // bit 7 clear: no device SDRs (the sensors are in the SDR repository)
    id.firmwareMajor & 0x7f, // bit 7 clear: normal operation, not update mode
    bcd(id.firmwareMinor),
    IPMI_VERSION_2_0,
    support & 0xff,
    id.manufacturerId & 0xff,
    (id.manufacturerId >>> 8) & 0xff,
    (id.manufacturerId >>> 16) & 0x0f, // the top nibble of byte 3 is reserved
    id.productId & 0xff,
    (id.productId >>> 8) & 0xff,
  );
}

export function registerDeviceCommands(registry: CommandRegistry, identity: DeviceIdentity, support?: number): void {
  const deviceId = encodeDeviceId(identity, support);
  const guid = Uint8Array.from(identity.guid);
  // These requests carry no data; anything else is a malformed request (0xC7).
  const fixed =
    (body: Uint8Array): CommandHandler =>
    (_ctx, data) =>
      data.length === 0 ? { cc: CompletionCode.Ok, data: body } : { cc: CompletionCode.RequestLengthInvalid };

  registry.register({
    name: 'get-device-id',
    netfn: NETFN_APP,
    cmd: AppCmd.GetDeviceId,
    privilege: Privilege.User,
    channel: 'both',
    handler: fixed(deviceId),
  });
  registry.register({
    name: 'get-self-test-results',
    netfn: NETFN_APP,
    cmd: AppCmd.GetSelfTestResults,
    privilege: Privilege.User,
    channel: 'both',
    // 55h: no error; the second byte is 00h when the first is 55h.
    handler: fixed(Uint8Array.of(0x55, 0x00)),
  });
  registry.register({
    name: 'get-device-guid',
    netfn: NETFN_APP,
    cmd: AppCmd.GetDeviceGuid,
    privilege: Privilege.User,
    channel: 'both',
    handler: fixed(guid),
  });
  registry.register({
    name: 'get-system-guid',
    netfn: NETFN_APP,
    cmd: AppCmd.GetSystemGuid,
    privilege: Privilege.User,
    channel: 'both',
    handler: fixed(guid),
  });
}
