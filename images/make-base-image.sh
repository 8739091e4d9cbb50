#!/usr/bin/env bash
# Builds kiln's base image, minimal-linux-x86_64: an 8 GiB (sparse) ext4 root filesystem made
# from Debian's busybox-static with `mke2fs -d`, so nothing is mounted and no network is used.
#
#   images/make-base-image.sh OUT.ext4 [SIZE]     (SIZE for truncate, default 8G)
#
# Layout (DESIGN.md, base images): /bin/busybox with every applet linked at its usual path
# (/bin, /sbin, /usr/bin, /usr/sbin), /sbin/init (busybox init) with /etc/inittab, /etc
# (passwd, group, shadow, hostname, profile, fstab), /root, /tmp, /proc, /sys, /dev and /run
# mount points, /var/log. The runtime mounts proc, sys, dev and run before it starts /sbin/init.
set -euo pipefail

out=${1:?usage: make-base-image.sh OUT.ext4 [SIZE]}
size=${2:-8G}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-base-image: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
command -v mke2fs >/dev/null || { echo "make-base-image: mke2fs missing (e2fsprogs)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,root,tmp,proc,sys,dev,run,var/log,home,mnt}
chmod 1777 "$stage/tmp"
chmod 0700 "$stage/root"
install -m 0755 "$busybox" "$stage/bin/busybox"
# Every applet as a relative symlink to /bin/busybox at the path busybox itself lists.
"$busybox" --list-full | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  case "$applet" in linuxrc) continue ;; esac
  dir=$(dirname "$applet")
  mkdir -p "$stage/$dir"
  up=$(echo "$dir" | sed 's|[^/][^/]*|..|g')
  ln -sf "$up/bin/busybox" "$stage/$applet"
done

cat > "$stage/etc/inittab" <<'INITTAB'
# kiln minimal-linux: busybox init. The runtime has mounted /proc, /sys, /dev and /run (tmpfs)
# and set the hostname; stdout and stderr of init and everything it starts go to the instance console.
::sysinit:/etc/init.d/rcS
::respawn:/bin/sleep 2147483647
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
INITTAB
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
