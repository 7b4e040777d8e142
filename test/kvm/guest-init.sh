#!/bin/sh
# /init of the test guest (busybox). Loads virtio/9p and IPMI modules, mounts
# the host's / read-only as the root (tmpfs at /run for scratch), the writable
# work share at /mnt,
# and runs /mnt/guest-run.sh in a chroot. Its exit code goes to
# /mnt/guest-exit, then the guest powers off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do
  f=$(ls /modules/$m.ko* 2>/dev/null | head -n 1)
  insmod "$f" || echo "guest-init: insmod $m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /newroot || { echo "guest-init: cannot mount host root"; poweroff -f; }
# /tmp stays the host's (read-only): the repository under test may live there.
# Scratch space is a tmpfs at /run, and TMPDIR points into it.
mount -t tmpfs run /newroot/run
mount -t devtmpfs dev /newroot/dev
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 work /newroot/mnt || { echo "guest-init: cannot mount work share"; poweroff -f; }
i=0
while [ ! -e /newroot/dev/ipmi0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
echo "guest-init: /dev/ipmi0 $( [ -e /newroot/dev/ipmi0 ] && echo present || echo MISSING )"
chroot /newroot /bin/sh -c 'mkdir -p /run/tmp; export TMPDIR=/run/tmp SQLITE_TMPDIR=/run/tmp HOME=/run; exec /bin/sh /mnt/guest-run.sh'
echo $? > /newroot/mnt/guest-exit
sync
echo "guest-init: done"
poweroff -f
