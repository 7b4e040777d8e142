/**
 * The identity Get Device ID, Get Device GUID and Get System GUID report,
 * and the managed-system GUID RAKP 2 carries. Built once from config.
 */
export interface DeviceIdentity {
  deviceId: number;
  deviceRevision: number;
  firmwareMajor: number;
  firmwareMinor: number;
  /** IANA enterprise number reported as the manufacturer. */
  manufacturerId: number;
  productId: number;
  /** 16 bytes in IPMI wire order (SMBIOS layout, §20.8). */
  guid: Uint8Array;
}

/**
 * Converts a textual UUID (RFC 4122, 8-4-4-4-12) to the IPMI/SMBIOS wire
 * layout: the first three fields little-endian, the rest as written. This is
 * the order `ipmitool mc guid` decodes.
 */
export function guidFromUuid(uuid: string): Uint8Array {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(uuid);
  if (m === null) throw new RangeError(`not a UUID: ${uuid}`);
  const be = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  const out = new Uint8Array(16);
  out.set(be.subarray(0, 4).reverse(), 0);
  out.set(be.subarray(4, 6).reverse(), 4);
  out.set(be.subarray(6, 8).reverse(), 6);
  out.set(be.subarray(8, 16), 8);
  return out;
}

/** Inverse of guidFromUuid, for logs and docs. */
export function uuidFromGuid(guid: Uint8Array): string {
  if (guid.length !== 16) throw new RangeError('a GUID is 16 bytes');
  const b = Buffer.from(guid);
  const hex = (x: Buffer): string => x.toString('hex');
  return [
    hex(Buffer.from(b.subarray(0, 4)).reverse()),
    hex(Buffer.from(b.subarray(4, 6)).reverse()),
    hex(Buffer.from(b.subarray(6, 8)).reverse()),
    hex(b.subarray(8, 10)),
    hex(b.subarray(10, 16)),
  ].join('-');
}
