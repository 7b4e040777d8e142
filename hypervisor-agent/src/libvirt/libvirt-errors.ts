/**
 * libvirt's own error codes for results. Every call runs on a worker thread
 * that reads `virGetLastError()` right after the failing call, on the same
 * thread (libvirt keeps the last error per thread), so a failure carries
 * libvirt's numeric `virErrorNumber` and its message verbatim; the code is
 * reported by its name (VIR_ERR_NO_DOMAIN), as in libvirt's virterror.h.
 */

/** virErrorNumber names by value (libvirt 9.0's virterror.h, without the VIR_ prefix; 0..110). */
const NAMES: readonly string[] = [
  'ERR_OK', 'ERR_INTERNAL_ERROR', 'ERR_NO_MEMORY', 'ERR_NO_SUPPORT', 'ERR_UNKNOWN_HOST', 'ERR_NO_CONNECT',
  'ERR_INVALID_CONN', 'ERR_INVALID_DOMAIN', 'ERR_INVALID_ARG', 'ERR_OPERATION_FAILED', 'ERR_GET_FAILED',
  'ERR_POST_FAILED', 'ERR_HTTP_ERROR', 'ERR_SEXPR_SERIAL', 'ERR_NO_XEN', 'ERR_XEN_CALL', 'ERR_OS_TYPE',
  'ERR_NO_KERNEL', 'ERR_NO_ROOT', 'ERR_NO_SOURCE', 'ERR_NO_TARGET', 'ERR_NO_NAME', 'ERR_NO_OS',
  'ERR_NO_DEVICE', 'ERR_NO_XENSTORE', 'ERR_DRIVER_FULL', 'ERR_CALL_FAILED', 'ERR_XML_ERROR', 'ERR_DOM_EXIST',
  'ERR_OPERATION_DENIED', 'ERR_OPEN_FAILED', 'ERR_READ_FAILED', 'ERR_PARSE_FAILED', 'ERR_CONF_SYNTAX',
  'ERR_WRITE_FAILED', 'ERR_XML_DETAIL', 'ERR_INVALID_NETWORK', 'ERR_NETWORK_EXIST', 'ERR_SYSTEM_ERROR',
  'ERR_RPC', 'ERR_GNUTLS_ERROR', 'WAR_NO_NETWORK', 'ERR_NO_DOMAIN', 'ERR_NO_NETWORK', 'ERR_INVALID_MAC',
  'ERR_AUTH_FAILED', 'ERR_INVALID_STORAGE_POOL', 'ERR_INVALID_STORAGE_VOL', 'WAR_NO_STORAGE',
  'ERR_NO_STORAGE_POOL', 'ERR_NO_STORAGE_VOL', 'WAR_NO_NODE', 'ERR_INVALID_NODE_DEVICE',
  'ERR_NO_NODE_DEVICE', 'ERR_NO_SECURITY_MODEL', 'ERR_OPERATION_INVALID', 'WAR_NO_INTERFACE',
  'ERR_NO_INTERFACE', 'ERR_INVALID_INTERFACE', 'ERR_MULTIPLE_INTERFACES', 'WAR_NO_NWFILTER',
  'ERR_INVALID_NWFILTER', 'ERR_NO_NWFILTER', 'ERR_BUILD_FIREWALL', 'WAR_NO_SECRET', 'ERR_INVALID_SECRET',
  'ERR_NO_SECRET', 'ERR_CONFIG_UNSUPPORTED', 'ERR_OPERATION_TIMEOUT', 'ERR_MIGRATE_PERSIST_FAILED',
  'ERR_HOOK_SCRIPT_FAILED', 'ERR_INVALID_DOMAIN_SNAPSHOT', 'ERR_NO_DOMAIN_SNAPSHOT', 'ERR_INVALID_STREAM',
  'ERR_ARGUMENT_UNSUPPORTED', 'ERR_STORAGE_PROBE_FAILED', 'ERR_STORAGE_POOL_BUILT',
  'ERR_SNAPSHOT_REVERT_RISKY', 'ERR_OPERATION_ABORTED', 'ERR_AUTH_CANCELLED', 'ERR_NO_DOMAIN_METADATA',
  'ERR_MIGRATE_UNSAFE', 'ERR_OVERFLOW', 'ERR_BLOCK_COPY_ACTIVE', 'ERR_OPERATION_UNSUPPORTED', 'ERR_SSH',
  'ERR_AGENT_UNRESPONSIVE', 'ERR_RESOURCE_BUSY', 'ERR_ACCESS_DENIED', 'ERR_DBUS_SERVICE',
  'ERR_STORAGE_VOL_EXIST', 'ERR_CPU_INCOMPATIBLE', 'ERR_XML_INVALID_SCHEMA', 'ERR_MIGRATE_FINISH_OK',
  'ERR_AUTH_UNAVAILABLE', 'ERR_NO_SERVER', 'ERR_NO_CLIENT', 'ERR_AGENT_UNSYNCED', 'ERR_LIBSSH',
  'ERR_DEVICE_MISSING', 'ERR_INVALID_NWFILTER_BINDING', 'ERR_NO_NWFILTER_BINDING',
  'ERR_INVALID_DOMAIN_CHECKPOINT', 'ERR_NO_DOMAIN_CHECKPOINT', 'ERR_NO_DOMAIN_BACKUP',
  'ERR_INVALID_NETWORK_PORT', 'ERR_NETWORK_PORT_EXIST', 'ERR_NO_NETWORK_PORT', 'ERR_NO_HOSTNAME',
  'ERR_CHECKPOINT_INCONSISTENT', 'ERR_MULTIPLE_DOMAINS',
];

export const VIR_ERR_NO_DOMAIN = 42;
export const VIR_ERR_OPERATION_INVALID = 55;
export const VIR_ERR_OPERATION_TIMEOUT = 68;

/** What a failed libvirt call left in virGetLastError() (code, domain and message), as sent back by a worker. */
export interface VirErrorFields {
  code: number;
  domain: number;
  message: string;
}

export interface LibvirtFailure {
  /** VIR_ERR_* name, or an ERR_* code of the agent's own. */
  code: string;
  message: string;
}

/** A failed libvirt call, with libvirt's numeric error code. */
export class LibvirtError extends Error {
  readonly code: number;
  readonly errorDomain: number;

  constructor(fields: VirErrorFields) {
    super(fields.message);
    this.name = 'LibvirtError';
    this.code = fields.code;
    this.errorDomain = fields.domain;
  }

  get codeName(): string {
    return virErrorName(this.code);
  }
}

/** What a worker reports when the failure was not libvirt's (the library could not be loaded, a bug). */
export const NOT_A_LIBVIRT_ERROR = -1;

export function virErrorName(code: number): string {
  if (code === NOT_A_LIBVIRT_ERROR) return 'ERR_LIBVIRT_CALL';
  const name = NAMES[code];
  return name ? `VIR_${name}` : `VIR_ERR_${code}`;
}

export function classifyLibvirtError(err: unknown): LibvirtFailure {
  if (err instanceof LibvirtError) return { code: err.codeName, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'VIR_ERR_UNKNOWN', message };
}

/** Errors that mean the connection itself is gone (reconnect before the next call). */
export function isConnectionFailure(failure: LibvirtFailure): boolean {
  return failure.code === 'VIR_ERR_SYSTEM_ERROR' || failure.code === 'VIR_ERR_INVALID_CONN' || failure.code === 'VIR_ERR_RPC' || failure.code === 'VIR_ERR_NO_CONNECT';
}
