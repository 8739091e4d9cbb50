#!/usr/bin/env bash
# Builds kiln's base image, minimal-linux-x86_64: an 8 GiB (sparse) ext4 root filesystem made
# from Debian's busybox-static with `mke2fs -d`, so nothing is mounted and no network is used.
#
#   images/make-base-image.sh OUT.ext4 [SIZE]     (SIZE for truncate, default 8G)
#
# Layout (DESIGN.md, base images): /bin/busybox with every applet linked at its usual path
# (/bin, /sbin, /usr/bin, /usr/sbin), /etc (passwd, group, shadow, hostname, profile, fstab),
# /root, /tmp, /proc, /sys, /dev and /run mount points, /var/log. The runtime mounts proc, sys,
# dev and run before it starts /sbin/init.
#
# PID 1 is Debian's tini (tini-static, at /sbin/tini), not busybox init: /sbin/init execs
# `tini -- /etc/init.d/rc`. Busybox 1.35's init sleeps a second after reaping any child before
# it looks at signals again, so a stop that follows a process's exit (user data finishing, say)
# waited up to a second before the guest even began to shut down. tini waits on signals and
# children together: it reaps every orphan at once and forwards each signal to rc, which boots
# (/etc/init.d/rcS) and, on SIGTERM (the runtime's stop or reboot; `reboot` inside), SIGUSR1
# (`halt`) or SIGUSR2 (`poweroff`), becomes /etc/init.d/rcK, the clean shutdown without fixed
# sleeps. When rcK ends, rc has ended, and with it tini and the guest. busybox's init applet
# stays available as `busybox init` for an image maker who wants inittab back.
set -euo pipefail

out=${1:?usage: make-base-image.sh OUT.ext4 [SIZE]}
size=${2:-8G}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-base-image: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
command -v mke2fs >/dev/null || { echo "make-base-image: mke2fs missing (e2fsprogs)" >&2; exit 1; }
tini=/usr/bin/tini-static
[ -x "$tini" ] || { echo "make-base-image: $tini missing (apt-get install tini)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,root,tmp,proc,sys,dev,run,var/log,home,mnt}
chmod 1777 "$stage/tmp"
chmod 0700 "$stage/root"
install -m 0755 "$busybox" "$stage/bin/busybox"
# Every applet as a relative symlink to /bin/busybox at the path busybox itself lists.
"$busybox" --list-full | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  case "$applet" in linuxrc | sbin/init) continue ;; esac
  dir=$(dirname "$applet")
  mkdir -p "$stage/$dir"
  up=$(echo "$dir" | sed 's|[^/][^/]*|..|g')
  ln -sf "$up/bin/busybox" "$stage/$applet"
done

install -m 0755 "$tini" "$stage/sbin/tini"
cat > "$stage/sbin/init" <<'INIT'
#!/bin/sh
# kiln minimal-linux: PID 1 is tini, which reaps every process and forwards signals to rc.
exec /sbin/tini -- /etc/init.d/rc
INIT
chmod 0755 "$stage/sbin/init"
cat > "$stage/etc/init.d/rc" <<'RC'
#!/bin/sh
# The guest's life, under tini (PID 1). stdout and stderr go to the instance console; the
# runtime has mounted /proc, /sys, /dev and /run (tmpfs) and set the hostname.
# A shutdown signal makes this process rcK (exec): rcK's `kill -1` spares its caller and init,
# so nothing is left to end the guest early; when rcK exits, tini exits with it.
trap 'exec /etc/init.d/rcK' TERM USR1 USR2 INT
trap '' HUP QUIT
# rcS in the background so a stop during boot is not held up by a slow rc.local.d script: the
# trap runs as soon as `wait` is interrupted, and rcK's kill -1 ends the rest of the boot.
/etc/init.d/rcS &
wait $!
while :; do
  sleep 2147483647 &
  wait $!
done
RC
chmod 0755 "$stage/etc/init.d/rc"
cat > "$stage/etc/init.d/rcK" <<'RCK'
#!/bin/sh
# Guest shutdown: /etc/init.d/rc becomes this script on reboot, poweroff and halt from inside
# and on the SIGTERM with which the runtime stops or reboots the instance. Busybox init's own
# shutdown would SIGTERM everyone, sleep 1 s, SIGKILL, and sleep 1 s more, however quick the
# guest is. Here every other process gets SIGTERM and as long as it needs (up to 5 s) to exit, then
# SIGKILL; then / is remounted read-only and the rest unmounted (each synced as it goes).
# The runtime sees the guest at rest (no process but init, disks read-only) and ends it at once.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "minimal-linux: stopping"

# True while a process other than init and this shell lives. Builtins only (for, read, [):
# a command started here would itself be a process left. Zombies hold no files: not counted.
others_alive() {
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    if [ "$pid" = 1 ] || [ "$pid" = "$$" ]; then continue; fi
    stat=
    read -r stat 2>/dev/null <"$dir/stat" || continue
    state=${stat##*) }
    [ "${state%% *}" = Z ] || return 0
  done
  return 1
}

# Waits until the others are gone, at most $1 polls 5 ms apart (most exit within one).
wait_others() {
  polls=0
  while others_alive; do
    [ "$polls" -ge "$1" ] && return 1
    sleep 0.005
    polls=$((polls + 1))
  done
}

# The shell's kill builtin: kill(-1) signals every process but init and the caller.
kill -TERM -1 2>/dev/null
if ! wait_others 1000; then
  echo "minimal-linux: processes left 5 s after SIGTERM: SIGKILL"
  kill -KILL -1 2>/dev/null
  wait_others 400
fi
# No sync(1) here: sync(2) flushes every file system of the host, not just the guest's (tens
# of ms while kilnd writes chunks). Remounting / read-only syncs it, and unmounting (or the
# read-only remount of a busy one) syncs each volume's file system.
if mount -o remount,ro /; then
  echo "minimal-linux: / read-only"
fi
# The other file systems (volumes the user mounted, /proc, /dev...): unmounted, or remounted
# read-only if busy (/ itself, which cannot be unmounted).
umount -a -r 2>/dev/null
RCK
chmod 0755 "$stage/etc/init.d/rcK"
cat > "$stage/etc/init.d/rcS" <<'RCS'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "minimal-linux: booting $(hostname) ($(uname -r))"
# Local scripts an image maker adds run at every boot, in name order.
for script in /etc/rc.local.d/*; do [ -x "$script" ] && "$script"; done
echo "minimal-linux: up"
RCS
chmod 0755 "$stage/etc/init.d/rcS"
mkdir -p "$stage/etc/rc.local.d"
cat > "$stage/etc/profile" <<'PROFILE'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=${HOME:-/root}
PS1='\h:\w\$ '
PROFILE
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$stage/etc/group"
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' > "$stage/etc/shadow"
chmod 0640 "$stage/etc/shadow"
echo minimal-linux > "$stage/etc/hostname"
echo '/dev/xvda / ext4 defaults 0 1' > "$stage/etc/fstab"
printf 'kiln minimal-linux-x86_64 (busybox %s)\n' "$("$busybox" | head -1 | awk '{print $2}')" > "$stage/etc/issue"

rm -f "$out.tmp"
truncate -s "$size" "$out.tmp"
# Fixed UUID-free, reproducible-enough options; root owns everything (-E root_owner).
mke2fs -q -F -t ext4 -L kiln-root -E root_owner=0:0 -d "$stage" "$out.tmp"
mv "$out.tmp" "$out"
echo "make-base-image: $out ($(du -h --apparent-size "$out" | cut -f1) apparent, $(du -h "$out" | cut -f1) used)"
