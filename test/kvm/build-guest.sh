#!/usr/bin/env bash
# Builds (once, cached) what the in-band test guest boots: Debian's kernel
# and the dozen modules it needs, plus a tiny busybox initramfs whose /init
# mounts the host's / read-only over virtio-9p and runs a script from a
# second, writable 9p share. Nothing comes from outside Debian's packages.
#
#   test/kvm/build-guest.sh            prints the cache directory when ready
#
# Cache: $BACKCHANNEL_KVM_CACHE, default ~/.cache/backchannel/kvm. Delete it to
# rebuild. Facts this relies on: ../shared/KVM-NOTES.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${BACKCHANNEL_KVM_CACHE:-$HOME/.cache/backchannel/kvm}"
log() { printf 'kvm-guest: %s\n' "$*" >&2; }

# Modules in load order: virtio + 9p for the root share, then IPMI.
MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
         9pnet 9pnet_virtio netfs fscache 9p ipmi_msghandler ipmi_devintf ipmi_si)

if [ -f "$cache/ready" ] && [ "$(cat "$cache/ready")" = "$(sha256sum "$here/guest-init.sh" | cut -d' ' -f1)" ]; then
  echo "$cache"
  exit 0
fi

for tool in apt-get dpkg-deb busybox qemu-system-x86_64; do
  command -v "$tool" >/dev/null || { log "missing $tool (scripts/bootstrap installs it)"; exit 1; }
done

mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$cache/vmlinuz" ] || [ ! -d "$cache/modules" ]; then
  pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  fi
  [ -n "$pkg" ] || { log "cannot resolve linux-image-amd64 (apt-get update?)"; exit 1; }
  log "downloading $pkg (about 70 MB, once)"
  (cd "$work" && apt-get download -qq "$pkg" >/dev/null)
  log "extracting"
  dpkg-deb -x "$work"/linux-image-*.deb "$work/root"
  cp "$work"/root/boot/vmlinuz-* "$cache/vmlinuz"
  rm -rf "$cache/modules" && mkdir -p "$cache/modules"
  for m in "${MODULES[@]}"; do
    file="$(find "$work/root/lib/modules" -name "$m.ko*" | head -n 1)"
    [ -n "$file" ] || { log "module $m not found in $pkg"; exit 1; }
    cp "$file" "$cache/modules/"
  done
  rm -rf "$work/root"
fi

log "building initramfs"
rd="$work/initramfs"
mkdir -p "$rd"/{bin,dev,proc,sys,newroot,modules}
cp /usr/bin/busybox "$rd/bin/busybox"
for applet in sh mount umount insmod sleep cat echo mkdir chroot poweroff ls switch_root; do ln -s busybox "$rd/bin/$applet"; done
cp "$cache"/modules/* "$rd/modules/"
printf '%s\n' "${MODULES[@]}" > "$rd/modules/order"
cp "$here/guest-init.sh" "$rd/init"
chmod +x "$rd/init"
(cd "$rd" && find . | busybox cpio -o -H newc 2>/dev/null) > "$cache/initramfs.cpio"
sha256sum "$here/guest-init.sh" | cut -d' ' -f1 > "$cache/ready"
log "ready in $cache"
echo "$cache"
