/**
 * The shell scripts of the boot environment: /init (PID 1: file systems, drivers, then the
 * controller, and a shell for the technician whenever the controller cannot go on) and the
 * script busybox udhcpc calls to apply a lease. Kept to busybox sh so a broken Node or engine
 * still leaves a working shell.
 */

/** Modules no device asks for: file systems of targets and media, checksums ext4 wants. */
export const ALWAYS_LOAD = ['ext4', 'vfat', 'isofs', 'udf', 'nls_cp437', 'nls_ascii', 'nls_iso8859-1', 'nls_utf8', 'crc32c_intel', 'crc32c_generic', 'loop', 'sd_mod', 'sr_mod', 'efivarfs'];

/** Exit codes of the controller that /init acts on. */
export const CONTROLLER_EXIT = { reboot: 10, poweroff: 11, shell: 12 } as const;

export const INIT = `#!/bin/busybox sh
# osdeploy boot environment, PID 1. Mounts the kernel's file systems, loads the drivers the
# hardware asks for (coldplug from modalias, a few rounds as buses appear), then runs the
# controller (/osdeploy/controller.mjs), which brings up the network, runs the task sequence
# engine and shows its progress. Whenever the controller cannot go on, a shell is left on the
# console for a technician; leaving it restarts the machine.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
/bin/busybox mkdir -p /proc /sys /dev /run /tmp /mnt /root
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Busybox's applets where no real program of that name is in the image (real tar, sfdisk… stay).
/bin/busybox --install -s 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
echo /sbin/modprobe > /proc/sys/kernel/modprobe
# on: /dev/kmsg unthrottled, so every engine and driver line reaches the kernel log (the kernel
# takes on, off or ratelimit here; anything else is EINVAL).
echo on > /proc/sys/kernel/printk_devkmsg 2>/dev/null
hostname osdeploy
ip link set lo up
# Every active console (a screen and a serial port); /dev/console is only the last one named.
say() { for c in $(cat /sys/class/tty/console/active 2>/dev/null); do echo "$*" > /dev/$c; done; }
say "osdeploy: boot environment $(cat /etc/osdeploy/version 2>/dev/null), kernel $(uname -r)"
say "osdeploy: loading drivers"
: > /run/modalias.prev
for round in 1 2 3 4 5; do
  find /sys/devices -name modalias -exec cat {} + 2>/dev/null | sort -u > /run/modalias
  cmp -s /run/modalias /run/modalias.prev && break
  cp /run/modalias /run/modalias.prev
  while read -r alias; do modprobe -q -b "$alias" 2>/dev/null; done < /run/modalias
  sleep 1
done
for m in ${ALWAYS_LOAD.join(' ')}; do modprobe -q "$m" 2>/dev/null; done
if [ -d /sys/firmware/efi ]; then mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null; fi
say "osdeploy: $(lsmod | wc -l) drivers loaded"

rescue() {
  say "osdeploy: $1"
  say "osdeploy: a shell follows; the engine log is /run/osdeploy/engine.log. Type 'exit' to restart the machine."
  setsid cttyhack sh
  sync
  reboot -f
}

if grep -qw osdeploy.shell=1 /proc/cmdline; then
  say "osdeploy: osdeploy.shell=1 on the command line: a shell before anything runs (exit to go on)"
  setsid cttyhack sh
fi
/usr/bin/node /osdeploy/controller.mjs
rc=$?
sync
case $rc in
  ${CONTROLLER_EXIT.reboot}) reboot -f ;;
  ${CONTROLLER_EXIT.poweroff}) poweroff -f ;;
  ${CONTROLLER_EXIT.shell}) rescue "the controller asked for a shell" ;;
  *) rescue "the controller stopped (exit $rc)" ;;
esac
rescue "reboot failed"
`;

/**
 * busybox udhcpc calls this with $1 = deconfig | bound | renew | leasefail | nak and the lease
 * in the environment ($ip, $mask, $router, $dns, $domain); it applies the lease with busybox ip.
 */
export const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip addr add "$ip/\${mask:-24}" \${broadcast:+broadcast $broadcast} dev "$interface"
    if [ -n "$router" ]; then
      for r in $router; do ip route add default via "$r" dev "$interface" metric 100 2>/dev/null && break; done
    fi
    : > /run/resolv.conf.$interface
    [ -n "$domain" ] && echo "search $domain" >> /run/resolv.conf.$interface
    for d in $dns; do echo "nameserver $d" >> /run/resolv.conf.$interface; done
    cat /run/resolv.conf.* > /etc/resolv.conf 2>/dev/null
    echo "$ip" > /run/osdeploy-lease.$interface
    ;;
esac
exit 0
`;
