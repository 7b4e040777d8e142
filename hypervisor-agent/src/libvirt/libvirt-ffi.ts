/**
 * libvirt's C API (libvirt.so.0) declared through koffi, for use on a worker
 * thread only: every call here blocks its thread until libvirtd answers.
 *
 * Handles (virConnectPtr, virDomainPtr) are declared as `uintptr_t`, plain
 * numbers, so a connection opened on one thread can be used on another
 * (libvirt's handles are reference-counted and thread-safe; koffi's External
 * pointers belong to one thread's JS engine). Domains are looked up, used and
 * freed within one worker call; only the connection crosses threads.
 *
 * virGetLastError() is per thread: it is read on the thread whose call failed,
 * right after the call (see libvirt-calls.ts).
 */
import koffi from 'koffi';

export type Handle = number;

export const VirDomainInfo = koffi.struct('backchannel_virDomainInfo', {
  state: 'uint8_t',
  maxMem: 'unsigned long',
  memory: 'unsigned long',
  nrVirtCpu: 'uint16_t',
  cpuTime: 'uint64_t',
});

export const VirError = koffi.struct('backchannel_virError', {
  code: 'int',
  domain: 'int',
  message: 'const char *',
  level: 'int',
  conn: 'void *',
  dom: 'void *',
  str1: 'const char *',
  str2: 'const char *',
  str3: 'const char *',
  int1: 'int',
  int2: 'int',
  net: 'void *',
});

/** virConnectDomainEventCallback for VIR_DOMAIN_EVENT_ID_LIFECYCLE (event, detail). */
export const LifecycleCallback = koffi.proto('int backchannel_virLifecycleCb(uintptr_t conn, uintptr_t dom, int event, int detail, void *opaque)');
/** virConnectDomainEventGenericCallback, used for VIR_DOMAIN_EVENT_ID_REBOOT. */
export const GenericDomainCallback = koffi.proto('void backchannel_virGenericDomainCb(uintptr_t conn, uintptr_t dom, void *opaque)');
/** virConnectCloseFunc: the connection to libvirtd was lost (reason: EOF, keepalive, client). */
export const CloseCallback = koffi.proto('void backchannel_virCloseCb(uintptr_t conn, int reason, void *opaque)');
/** virEventTimeoutCallback. */
export const TimeoutCallback = koffi.proto('void backchannel_virTimeoutCb(int timer, void *opaque)');

function declare(lib: koffi.IKoffiLib) {
  return {
    virResetLastError: lib.func('void virResetLastError()'),
    virGetLastError: lib.func('backchannel_virError *virGetLastError()'),
    virGetVersion: lib.func('int virGetVersion(_Out_ unsigned long *libVer, const char *type, _Out_ unsigned long *typeVer)'),

    virConnectOpen: lib.func('uintptr_t virConnectOpen(const char *name)'),
    virConnectClose: lib.func('int virConnectClose(uintptr_t conn)'),
    virConnectIsAlive: lib.func('int virConnectIsAlive(uintptr_t conn)'),
    virConnectSetKeepAlive: lib.func('int virConnectSetKeepAlive(uintptr_t conn, int interval, unsigned int count)'),
    virConnectListAllDomains: lib.func('int virConnectListAllDomains(uintptr_t conn, _Out_ void **domains, unsigned int flags)'),

    virDomainLookupByName: lib.func('uintptr_t virDomainLookupByName(uintptr_t conn, const char *name)'),
    virDomainLookupByUUIDString: lib.func('uintptr_t virDomainLookupByUUIDString(uintptr_t conn, const char *uuid)'),
    virDomainFree: lib.func('int virDomainFree(uintptr_t dom)'),
    virDomainGetName: lib.func('const char *virDomainGetName(uintptr_t dom)'),
    virDomainGetUUIDString: lib.func('int virDomainGetUUIDString(uintptr_t dom, uint8_t *buf)'),
    virDomainGetID: lib.func('unsigned int virDomainGetID(uintptr_t dom)'),
    virDomainGetInfo: lib.func('int virDomainGetInfo(uintptr_t dom, _Out_ backchannel_virDomainInfo *info)'),
    virDomainIsPersistent: lib.func('int virDomainIsPersistent(uintptr_t dom)'),

    virDomainCreate: lib.func('int virDomainCreate(uintptr_t dom)'),
    virDomainShutdown: lib.func('int virDomainShutdown(uintptr_t dom)'),
    virDomainDestroy: lib.func('int virDomainDestroy(uintptr_t dom)'),
    virDomainSuspend: lib.func('int virDomainSuspend(uintptr_t dom)'),
    virDomainResume: lib.func('int virDomainResume(uintptr_t dom)'),
    virDomainReboot: lib.func('int virDomainReboot(uintptr_t dom, unsigned int flags)'),
    virDomainReset: lib.func('int virDomainReset(uintptr_t dom, unsigned int flags)'),

    virEventRegisterDefaultImpl: lib.func('int virEventRegisterDefaultImpl()'),
    virEventRunDefaultImpl: lib.func('int virEventRunDefaultImpl()'),
    virEventAddTimeout: lib.func('int virEventAddTimeout(int timeout, backchannel_virTimeoutCb *cb, void *opaque, void *ff)'),
    virEventUpdateTimeout: lib.func('void virEventUpdateTimeout(int timer, int timeout)'),
    virSetErrorFunc: lib.func('void virSetErrorFunc(void *userData, void *handler)'),
    // One symbol, two prototypes: the callback's C type depends on the event id.
    virConnectDomainEventRegisterLifecycle: lib.func(
      'virConnectDomainEventRegisterAny',
      'int',
      ['uintptr_t', 'uintptr_t', 'int', koffi.pointer(LifecycleCallback), 'void *', 'void *'],
    ),
    virConnectDomainEventRegisterGeneric: lib.func(
      'virConnectDomainEventRegisterAny',
      'int',
      ['uintptr_t', 'uintptr_t', 'int', koffi.pointer(GenericDomainCallback), 'void *', 'void *'],
    ),
    virConnectDomainEventDeregisterAny: lib.func('int virConnectDomainEventDeregisterAny(uintptr_t conn, int callbackID)'),
    virConnectRegisterCloseCallback: lib.func('int virConnectRegisterCloseCallback(uintptr_t conn, backchannel_virCloseCb *cb, void *opaque, void *ff)'),
    virConnectUnregisterCloseCallback: lib.func('int virConnectUnregisterCloseCallback(uintptr_t conn, backchannel_virCloseCb *cb)'),
  };
}

export type Libvirt = ReturnType<typeof declare>;

let loaded: { lib: Libvirt; libc: { free: koffi.KoffiFunction } } | undefined;

const RTLD_NOW = 2;

/** Loads libvirt.so.0 (once per thread); throws if the library is not installed. */
export function libvirt(): Libvirt {
  if (loaded) return loaded.lib;
  const lib = declare(koffi.load('libvirt.so.0'));
  const libc = koffi.load('libc.so.6');
  loaded = { lib, libc: { free: libc.func('void free(void *ptr)') } };
  silenceDefaultErrorPrinting(libc, lib);
  return lib;
}

/**
 * libvirt prints every error to stderr unless an error function is set; the
 * agent reports errors itself (in results and its log). The handler set is
 * libvirt's own virFreeError, called as handler(NULL userData, error): freeing
 * NULL does nothing. A native function, because libvirt calls the handler on
 * whichever thread failed, and a JS callback belongs to one thread. The
 * setting is process-wide; setting it again from another thread is harmless.
 */
function silenceDefaultErrorPrinting(libc: koffi.IKoffiLib, lib: Libvirt): void {
  const dlopen = libc.func('void *dlopen(const char *file, int mode)');
  const dlsym = libc.func('void *dlsym(void *handle, const char *name)');
  const handle = dlopen('libvirt.so.0', RTLD_NOW) as unknown;
  const noop = handle ? (dlsym(handle, 'virFreeError') as unknown) : null;
  if (noop) lib.virSetErrorFunc(null, noop);
}

/** libc's free(), for arrays libvirt allocates for the caller (virConnectListAllDomains). */
export function cFree(ptr: unknown): void {
  libvirt();
  loaded?.libc.free(ptr);
}

export const VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;
export const VIR_DOMAIN_EVENT_ID_REBOOT = 1;
