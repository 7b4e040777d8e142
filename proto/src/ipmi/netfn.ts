/**
 * Network function codes and the standard command numbers this project
 * sends or answers. A response NetFn is the request NetFn + 1 (IPMI v2.0
 * §5.1, Table 5-1); only the (even) request codes are listed.
 */
export const NetFn = {
  CHASSIS: 0x00, // §28
  BRIDGE: 0x02,
  SENSOR_EVENT: 0x04,
  APP: 0x06, // §20, §22
  FIRMWARE: 0x08,
  STORAGE: 0x0a,
  TRANSPORT: 0x0c, // §23
  GROUP: 0x2c,
  OEM_GROUP: 0x2e, // first 3 data bytes are the IANA number (PROTOCOL.md §2)
  OEM: 0x30,
} as const;

/** The response NetFn for a request NetFn (§5.1: "odd = response"). */
export function responseNetFn(requestNetFn: number): number {
  return (requestNetFn | 1) & 0x3f;
}

/** NetFn App (0x06) commands, IPMI v2.0 Appendix G. */
export const AppCommand = {
  GET_DEVICE_ID: 0x01, // §20.1
  COLD_RESET: 0x02, // §20.2
  WARM_RESET: 0x03, // §20.3
  GET_SELF_TEST_RESULTS: 0x04, // §20.4
  GET_DEVICE_GUID: 0x08, // §20.8
  SET_BMC_GLOBAL_ENABLES: 0x2e, // §22.1
  GET_BMC_GLOBAL_ENABLES: 0x2f, // §22.2
  CLEAR_MESSAGE_FLAGS: 0x30, // §22.3
  GET_MESSAGE_FLAGS: 0x31, // §22.4
  GET_MESSAGE: 0x33, // §22.6
  READ_EVENT_MESSAGE_BUFFER: 0x35, // §22.8
  GET_SYSTEM_GUID: 0x37, // §22.14
  GET_CHANNEL_AUTH_CAPABILITIES: 0x38, // §22.13
  GET_SESSION_CHALLENGE: 0x39, // §22.16 (IPMI 1.5 sessions: refused here)
  ACTIVATE_SESSION: 0x3a, // §22.17
  SET_SESSION_PRIVILEGE_LEVEL: 0x3b, // §22.18
  CLOSE_SESSION: 0x3c, // §22.19
  GET_SESSION_INFO: 0x3d, // §22.20
  GET_CHANNEL_INFO: 0x42, // §22.24
  GET_CHANNEL_CIPHER_SUITES: 0x54, // §22.15
} as const;

/** NetFn Chassis (0x00) commands, IPMI v2.0 §28. */
export const ChassisCommand = {
  GET_CHASSIS_CAPABILITIES: 0x00, // §28.1
  GET_CHASSIS_STATUS: 0x01, // §28.2
  CHASSIS_CONTROL: 0x02, // §28.3
} as const;

/** IPMB addresses used on the LAN channel (§13.8: the remote console is software ID 0x81). */
export const IpmbAddress = {
  BMC: 0x20,
  REMOTE_CONSOLE: 0x81,
} as const;

/** Channel number meaning "the channel this request arrived on" (§6.3). */
export const CURRENT_CHANNEL = 0x0e;
