/**
 * The generic completion codes the command layer itself produces (IPMI v2.0
 * §5.2, table 5-2). Command-specific codes (0x80–0xBE) live with the command
 * that returns them.
 */
export const CompletionCode = {
  Ok: 0x00,
  InvalidCommand: 0xc1,
  OutOfSpace: 0xc4,
  RequestLengthInvalid: 0xc7,
  ParameterOutOfRange: 0xc9,
  InvalidDataField: 0xcc,
  InsufficientPrivilege: 0xd4,
  NotSupportedInPresentState: 0xd5,
  Unspecified: 0xff,
} as const;
