/** Session-header constants: authentication type byte and RMCP+ payload types (IPMI v2.0 §13.6, §13.27.3). */

/** The first byte of an IPMI session header (§13.6). 0x06 marks an IPMI v2.0 / RMCP+ header. */
export const AuthType = {
  NONE: 0x00,
  MD2: 0x01,
  MD5: 0x02,
  STRAIGHT_PASSWORD: 0x04,
  OEM: 0x05,
  RMCP_PLUS: 0x06,
} as const;

/** Payload types, §13.27.3 Table 13-16 (6 bits). */
export const PayloadType = {
  IPMI: 0x00,
  SOL: 0x01,
  OEM_EXPLICIT: 0x02,
  OPEN_SESSION_REQUEST: 0x10,
  OPEN_SESSION_RESPONSE: 0x11,
  RAKP1: 0x12,
  RAKP2: 0x13,
  RAKP3: 0x14,
  RAKP4: 0x15,
} as const;
