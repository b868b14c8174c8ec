#!/usr/bin/env bash
# Builds a throw-away root file system for running the node scripts as root without touching this machine: the
# host's own binaries and their libraries copied in, empty account files, and a /proc/sys STAND-IN (plain files
# holding non-CIS kernel values), so the sysctl step writes there and never to the real kernel.
# Usage: make-root.sh <dir> <stand-in dir>   (the stand-ins for systemctl, journalctl and RKE2 come from the second folder)
set -euo pipefail

root="$1"
standins="$2"
if [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then
  echo "make-root: $root is not empty" >&2
  exit 1
fi
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,tmp,var/lib,var/log,run,usr/local/bin}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"
mkdir -p "$root/dev"
mknod -m 0666 "$root/dev/null" c 1 3
mknod -m 0666 "$root/dev/zero" c 1 5
mknod -m 0444 "$root/dev/urandom" c 1 9

tools=(bash sh env sysctl grep cut cat mkdir chmod chown mktemp base64 cmp stat mv rm sha256sum awk tar gzip cp
  groupadd useradd usermod id date sleep tr sort head tail ls dirname basename touch nologin find sed wc ln
  openssl setsid seq setpriv timeout)
# shellcheck source=/dev/null  # copy-with-libs.sh is checked on its own
. "$(dirname "${BASH_SOURCE[0]}")/copy-with-libs.sh"
for tool in "${tools[@]}"; do
  path="$(command -v "$tool")"
  copy_with_libs "$path"
done

# openssl's configuration, for the RKE2 stand-in's certificates on a first server.
mkdir -p "$root/usr/lib/ssl"
cp -L /usr/lib/ssl/openssl.cnf "$root/usr/lib/ssl/openssl.cnf"

# Accounts: root only, read from files (the CIS profile looks the etcd user up in /etc/passwd, not NSS).
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\n' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
printf 'passwd: files\ngroup: files\nshadow: files\n' >"$root/etc/nsswitch.conf"
cp /etc/login.defs "$root/etc/login.defs"

# The /proc/sys stand-in, with the values a stock kernel has, none of them what the CIS profile needs.
mkdir -p "$root/proc/sys/vm" "$root/proc/sys/kernel"
echo 0 >"$root/proc/sys/vm/overcommit_memory"
echo 1 >"$root/proc/sys/vm/panic_on_oom"
echo 0 >"$root/proc/sys/kernel/panic"
echo 0 >"$root/proc/sys/kernel/panic_on_oops"
# A stock kernel is not in FIPS mode; a test that wants one writes 1 here.
mkdir -p "$root/proc/sys/crypto"
echo 0 >"$root/proc/sys/crypto/fips_enabled"

install -m 0755 "$standins/systemctl-standin.sh" "$root/usr/bin/systemctl"
# K3s's CIS audits read its journal (journalctl -u k3s); the K3s stand-in keeps one as a file.
install -m 0755 "$standins/journalctl-standin.sh" "$root/usr/bin/journalctl"
