/**
 * libvirt error codes for results. @unraid/libvirt passes libvirt's message
 * (virGetLastError()->message) but not its numeric code (always -1), so the
 * code is recovered from the fixed prefix libvirt puts on each message kind
 * (virErrorMsg in src/util/virerror.c). The message itself is kept verbatim.
 */
const PREFIXES: [RegExp, string][] = [
  [/^Domain not found/i, 'VIR_ERR_NO_DOMAIN'],
  [/^Requested operation is not valid/i, 'VIR_ERR_OPERATION_INVALID'],
  [/^Operation not supported/i, 'VIR_ERR_OPERATION_UNSUPPORTED'],
  [/^this function is not supported by the connection driver/i, 'VIR_ERR_NO_SUPPORT'],
  [/^invalid argument/i, 'VIR_ERR_INVALID_ARG'],
  [/^operation failed/i, 'VIR_ERR_OPERATION_FAILED'],
  [/^Timed out during operation/i, 'VIR_ERR_OPERATION_TIMEOUT'],
  [/^internal error/i, 'VIR_ERR_INTERNAL_ERROR'],
  [/^operation forbidden/i, 'VIR_ERR_OPERATION_DENIED'],
  [/^invalid connection pointer/i, 'VIR_ERR_INVALID_CONN'],
  [/^invalid domain pointer/i, 'VIR_ERR_INVALID_DOMAIN'],
  [/^Failed to connect socket|^Cannot recv data|^Cannot write data|^End of file while reading data|^client socket is closed|^no connection driver available/i, 'VIR_ERR_SYSTEM_ERROR'],
  [/^authentication failed/i, 'VIR_ERR_AUTH_FAILED'],
  [/^Guest agent is not responding/i, 'VIR_ERR_AGENT_UNRESPONSIVE'],
];

export interface LibvirtFailure {
  code: string;
  message: string;
}

export function classifyLibvirtError(err: unknown): LibvirtFailure {
  const message = err instanceof Error ? err.message : String(err);
  for (const [re, code] of PREFIXES) if (re.test(message)) return { code, message };
  return { code: 'VIR_ERR_UNKNOWN', message };
}

/** Errors that mean the connection itself is gone (reconnect before the next call). */
export function isConnectionFailure(failure: LibvirtFailure): boolean {
  return failure.code === 'VIR_ERR_SYSTEM_ERROR' || failure.code === 'VIR_ERR_INVALID_CONN';
}
