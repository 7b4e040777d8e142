#!/usr/bin/env bash
# Builds (once, cached) what the real-libvirt test guests boot: Debian's cloud
# kernel (small; direct boot needs no disk) and a busybox initramfs whose /init
# (guest-init.sh) can power off on the ACPI power button (evdev + button
# modules). The same packaging as test/kvm/build-guest.sh, other modules.
#
#   test/src/real-libvirt/build-guest.sh      prints the cache directory when ready
#
# Cache: $BACKCHANNEL_LIBVIRT_CACHE, default ~/.cache/backchannel/real-libvirt.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${BACKCHANNEL_LIBVIRT_CACHE:-$HOME/.cache/backchannel/real-libvirt}"
log() { printf 'real-libvirt-guest: %s\n' "$*" >&2; }
MODULES=(evdev button)
stamp="$(cat "$here/guest-init.sh" "$0" | sha256sum | cut -d' ' -f1)"

if [ -f "$cache/ready" ] && [ "$(cat "$cache/ready")" = "$stamp" ]; then
  echo "$cache"
  exit 0
fi
for tool in apt-get dpkg-deb busybox; do
  command -v "$tool" >/dev/null || { log "missing $tool (scripts/bootstrap installs it)"; exit 1; }
done
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$cache/vmlinuz" ] || [ ! -f "$cache/modules/button.ko" ]; then
  pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  fi
  [ -n "$pkg" ] || { log "cannot resolve linux-image-cloud-amd64 (apt-get update?)"; exit 1; }
  log "downloading $pkg (about 27 MB, once)"
  (cd "$work" && apt-get download -qq "$pkg" >/dev/null)
  dpkg-deb -x "$work"/linux-image-*.deb "$work/root"
  cp "$work"/root/boot/vmlinuz-* "$cache/vmlinuz"
  rm -rf "$cache/modules" && mkdir -p "$cache/modules"
  for m in "${MODULES[@]}"; do
    file="$(find "$work/root/lib/modules" -name "$m.ko*" | head -n 1)"
    [ -n "$file" ] || { log "module $m not found in $pkg"; exit 1; }
    case "$file" in
      *.ko) cp "$file" "$cache/modules/$m.ko" ;;
      *.ko.xz) xz -dc "$file" > "$cache/modules/$m.ko" ;;
      *) log "unexpected module file $file"; exit 1 ;;
    esac
  done
  rm -rf "$work/root"
fi

log "building initramfs"
rd="$work/initramfs"
mkdir -p "$rd"/{bin,dev,proc,sys,modules}
cp "$(command -v busybox)" "$rd/bin/busybox"
for applet in sh mount insmod sleep cat echo dd poweroff ls; do ln -s busybox "$rd/bin/$applet"; done
cp "$cache"/modules/*.ko "$rd/modules/"
cp "$here/guest-init.sh" "$rd/init"
chmod +x "$rd/init"
(cd "$rd" && find . | busybox cpio -o -H newc 2>/dev/null) > "$cache/initramfs.cpio"
echo "$stamp" > "$cache/ready"
log "ready in $cache"
echo "$cache"
