/**
 * libvirt's library version ("9.0.0") for status reports. @unraid/libvirt does
 * not expose virGetVersion, so it is read from libvirt.so.0 through koffi; an
 * empty string when the library cannot be loaded.
 */
import koffi from 'koffi';

export function libvirtLibraryVersion(): string {
  try {
    const lib = koffi.load('libvirt.so.0');
    const virGetVersion = lib.func('int virGetVersion(_Out_ unsigned long *libVer, const char *type, _Out_ unsigned long *typeVer)');
    const libVer = [0];
    const typeVer = [0];
    if ((virGetVersion(libVer, null, typeVer) as number) !== 0) return '';
    const v = Number(libVer[0]);
    return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
  } catch {
    return '';
  }
}
