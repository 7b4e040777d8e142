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
 * Converts a textual UUID (RFC 4122, 8-4-4-4-12) to the IPMI wire layout:
 * IPMI v2.0 §20.8 stores every GUID field least-significant byte first, so
 * the 16 bytes are the RFC 4122 (network order) bytes reversed. This is the
 * encoding `ipmitool mc guid` recognises as "IPMI".
 */
export function guidFromUuid(uuid: string): Uint8Array {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) throw new RangeError(`not a UUID: ${uuid}`);
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex').reverse());
}

/** Inverse of guidFromUuid, for logs and docs. */
export function uuidFromGuid(guid: Uint8Array): string {
  if (guid.length !== 16) throw new RangeError('a GUID is 16 bytes');
  const hex = Buffer.from(guid).reverse().toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
