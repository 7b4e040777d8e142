/**
 * libvirt's library version ("9.0.0") for status reports, from virGetVersion
 * in libvirt.so.0 (koffi; a local call that never reaches libvirtd, so it may
 * run on the main thread); an empty string when the library cannot be loaded.
 */
import { libvirt } from './libvirt-ffi.js';

export function libvirtLibraryVersion(): string {
  try {
    const libVer = [0];
    const typeVer = [0];
    if ((libvirt().virGetVersion(libVer, null, typeVer) as number) !== 0) return '';
    const v = Number(libVer[0]);
    return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
  } catch {
    return '';
  }
}
