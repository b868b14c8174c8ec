#!/usr/bin/env bash
# Step "sysctl": applies /etc/sysctl.d/90-kubelet.conf and reads every value back.
# RKE2's CIS profile reads these four parameters from /proc/sys at start and refuses to start when one differs
# ("invalid kernel parameter value"), and the kubelet's protect-kernel-defaults (CIS 4.2.6 in the rke2-cis-1.23/1.24
# benchmarks) fails the same way. The file in /etc/sysctl.d keeps them across reboots.
# Idempotent: applying the same values again changes nothing.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

conf=/etc/sysctl.d/90-kubelet.conf
if [ ! -f "$conf" ]; then
  echo "hardened-rke2: $conf is missing: the files step must run before this one" >&2
  exit 1
fi

sysctl -q -p "$conf" >/dev/null

# Read each value back: a read-only /proc/sys (some container hosts) must fail here, not at RKE2 start.
while IFS='=' read -r key value; do
  key="${key//[[:space:]]/}"
  value="${value//[[:space:]]/}"
  case "$key" in '' | '#'*) continue ;; esac
  actual="$(sysctl -n "$key")"
  if [ "$actual" != "$value" ]; then
    echo "hardened-rke2: kernel parameter $key is $actual after applying $conf; RKE2's CIS profile needs $value" >&2
    exit 1
  fi
done <"$conf"
echo "hardened-rke2: kernel parameters from $conf are in force"
