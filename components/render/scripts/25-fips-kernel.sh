#!/usr/bin/env bash
# Step "fips-kernel" (stacks with fips: true), before the install: the kernel must be in FIPS mode. RKE2's binaries
# carry the BoringCrypto module (RKE2 docs: security/fips_support), which runs its FIPS self-tests and restricts itself
# to approved algorithms only on a FIPS-mode kernel; on any other kernel the cluster would run, but not as FIPS 140-2
# asks. The kernel says so in /proc/sys/crypto/fips_enabled (1: on). Turning it on needs a reboot, so this step only
# checks, and a node that is not in FIPS mode gets no RKE2 at all.
# Idempotent: it only reads.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

state=/var/lib/hardened-rke2
# shellcheck source=/dev/null
. "$state/node.env"

flag=/proc/sys/crypto/fips_enabled
value=missing
if [ -r "$flag" ]; then value="$(tr -d '[:space:]' <"$flag")"; fi
if [ "$value" != 1 ]; then
  echo "hardened-rke2: node $NODE_NAME is not in FIPS mode ($flag is $value) and the stack sets fips: true, so RKE2 is not installed there." \
    "Turn FIPS mode on the distribution's way and reboot: RHEL, Rocky, Alma 8/9: fips-mode-setup --enable;" \
    "Ubuntu Pro: pro enable fips-updates; SLES: install the FIPS pattern and add fips=1 to the kernel command line;" \
    "other distributions: fips=1 on the kernel command line (plus boot=<the /boot device> when /boot is a separate partition)." >&2
  exit 1
fi
echo "hardened-rke2: node $NODE_NAME: kernel FIPS mode is on ($flag is 1)"
