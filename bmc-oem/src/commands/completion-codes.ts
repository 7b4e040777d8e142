/**
 * The generic completion codes the command layer itself produces (IPMI v2.0
 * §5.2, table 5-2), named for the command table; the values are proto's.
 * Command-specific codes (0x80–0xBE) live with the command that returns them.
 */
import { CompletionCode as Wire } from '@backchannel/proto';

export const CompletionCode = {
  Ok: Wire.OK,
  InvalidCommand: Wire.INVALID_COMMAND,
  OutOfSpace: Wire.OUT_OF_SPACE,
  RequestLengthInvalid: Wire.REQUEST_DATA_LENGTH_INVALID,
  ParameterOutOfRange: Wire.PARAMETER_OUT_OF_RANGE,
  InvalidDataField: Wire.INVALID_DATA_FIELD,
  InsufficientPrivilege: Wire.INSUFFICIENT_PRIVILEGE,
  NotSupportedInPresentState: Wire.NOT_SUPPORTED_IN_PRESENT_STATE,
  Unspecified: Wire.UNSPECIFIED,
} as const;
