#!/usr/bin/env bash
# Step "fips-module" (stacks with fips: true), after the install and before RKE2 starts: the installed rke2 binary
# must carry its FIPS crypto module. RKE2 builds it with GOEXPERIMENT=boringcrypto and asserts the module with
# rancher/image-build-base's go-assert-boring.sh (rke2 scripts/build-binary), which fails a binary whose symbol table
# (`go tool nm`) lists no `Cfunc__goboringcrypto` symbol. Nodes have no Go toolchain, so this step looks for the same
# names in the binary's bytes: `go tool nm` prints names read from the binary's symbol table, which stores them
# verbatim (RKE2 links with -w, dropping DWARF but keeping the symbol table), and Go's function name table keeps them
# too, so a binary that `go tool nm | grep` finds them in is one this finds them in. A binary built without the
# module has none of them.
# Idempotent: it only reads. Its last line is the node's FIPS evidence, which the verification reports.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

state=/var/lib/hardened-rke2
# shellcheck source=/dev/null
. "$state/node.env"

binary=/usr/local/bin/rke2
marker=_Cfunc__goboringcrypto_
if [ ! -f "$binary" ]; then
  echo "hardened-rke2: node $NODE_NAME has no $binary; the install step must run before this one" >&2
  exit 1
fi
# Matches, not lines: a binary has few newlines, so grep -c would count one line holding many symbols once. grep exits
# 1 when nothing matches, which is the answer "0" here, not a failure; any other exit (an unreadable binary) still fails.
symbols="$( (LC_ALL=C grep -a -o -F "$marker" "$binary" || [ "$?" -eq 1 ]) | wc -l)"
if [ "$symbols" -eq 0 ]; then
  echo "hardened-rke2: node $NODE_NAME: $binary ($RKE2_VERSION) carries no BoringCrypto module (no $marker symbols);" \
    "it is not a FIPS build, and the stack sets fips: true. Install RKE2's own release artifacts (linux-amd64 builds" \
    "are asserted to carry the module), not a rebuilt binary." >&2
  exit 1
fi
kernel="$(tr -d '[:space:]' </proc/sys/crypto/fips_enabled 2>/dev/null || echo missing)"
echo "hardened-rke2: FIPS $NODE_NAME: kernel fips_enabled=$kernel, $binary carries the BoringCrypto module ($symbols $marker symbols)"
