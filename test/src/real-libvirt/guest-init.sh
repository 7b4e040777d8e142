#!/bin/sh
# /init of the real-libvirt test guests (busybox, runs from the initramfs).
# Kernel parameter bc.acpi=poweroff: power off when the ACPI power button is
# pressed (what `virsh shutdown` does), like a guest with acpid;
# bc.acpi=ignore (default): a guest that ignores ACPI.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mode=ignore
for word in $(cat /proc/cmdline); do
  case "$word" in bc.acpi=*) mode="${word#bc.acpi=}" ;; esac
done
handlers=0
if [ "$mode" = poweroff ]; then
  insmod /modules/evdev.ko
  insmod /modules/button.ko
  for dev in /sys/class/input/input*; do
    [ "$(cat "$dev/name" 2>/dev/null)" = "Power Button" ] || continue
    for ev in "$dev"/event*; do
      node="/dev/input/${ev##*/}"
      # devtmpfs creates the node shortly after the module registers the device.
      n=0
      while [ ! -c "$node" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
      # One input_event (24 bytes) is enough: the button was pressed.
      ( if dd if="$node" of=/dev/null bs=24 count=1 2>/dev/null; then echo "backchannel-guest: power button"; poweroff -f; fi ) &
      handlers=$((handlers + 1))
    done
  done
fi
echo "backchannel-guest: ready acpi=$mode handlers=$handlers"
while :; do sleep 3600; done
