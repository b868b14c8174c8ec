#!/usr/bin/env bash
# Step "install": installs the pinned RKE2 or K3s release from verified artifacts. Every name and path comes from
# node.env, rendered from the distribution table (components/spec/distribution.ts): ARTIFACT is RKE2's tarball
# (unpacked into /usr/local) or K3s's binary (installed as /usr/local/bin/k3s), CHECKSUMS the release's sum file.
# airgap: the artifacts were copied from the operator's folder; each is checked against the checksums that folder
#         listed at preview before it is used, and nothing is fetched: the node makes no outbound connection.
# online: the release tarball and its checksum file come from the pinned release over verified TLS; the tarball is
#         checked against that file (and against install.tarballSha256 / binarySha256 when the stack pins it).
# Idempotent: a node whose installed tarball has the same checksum is left as it is.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

state=/var/lib/hardened-rke2
# shellcheck source=/dev/null
. "$state/node.env"

fail() {
  echo "hardened-rke2: $*" >&2
  exit 1
}

if [ "$SELINUX" = "true" ]; then
  # RKE2 passes selinux: true to containerd, which then needs the rke2-selinux policy (docs: security/selinux).
  if ! { rpm -q rke2-selinux >/dev/null 2>&1 || semodule -l 2>/dev/null | grep -qw rke2; }; then
    fail "selinux is enabled in the stack but this host has no rke2-selinux policy; install rke2-selinux and container-selinux first (air-gapped hosts: from your internal repository)"
  fi
fi

tarball="$ARTIFACT"
prefix=/usr/local
marker="$state/installed.sha256"

case "$INSTALL_MODE" in
  airgap)
    dir="$state/artifacts"
    (cd "$dir" && sha256sum --check --strict --quiet "$state/artifacts.sha256") ||
      fail "an artifact in $dir does not match the checksum listed in the operator's folder; copy the release files again"
    expected="$(awk -v f="$tarball" '$2 == f { print $1 }' "$state/artifacts.sha256")"
    ;;
  online)
    dir="$state/download"
    mkdir -p "$dir"
    base="$ARTIFACT_URL/${RKE2_VERSION//+/%2B}"
    curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
      --output "$dir/$CHECKSUMS" "$base/$CHECKSUMS"
    expected="$(awk -v f="$tarball" '$2 == f { print $1 }' "$dir/$CHECKSUMS")"
    [ -n "$expected" ] || fail "$CHECKSUMS of $RKE2_VERSION lists no $tarball"
    if [ -n "$ARTIFACT_SHA256" ] && [ "$expected" != "$ARTIFACT_SHA256" ]; then
      fail "the release lists sha256 $expected for $tarball but the stack pins $ARTIFACT_SHA256"
    fi
    if [ ! -f "$marker" ] || [ "$(cat "$marker")" != "$expected" ]; then
      curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
        --output "$dir/$tarball" "$base/$tarball"
      echo "$expected  $tarball" >"$dir/expected.sha256"
      (cd "$dir" && sha256sum --check --strict --quiet expected.sha256) ||
        fail "the downloaded $tarball does not match its published sha256 $expected"
    fi
    ;;
  *)
    fail "INSTALL_MODE is '$INSTALL_MODE' in $state/node.env; allowed: airgap, online"
    ;;
esac
[ -n "$expected" ] || fail "no checksum is listed for $tarball"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$expected" ] && [ -x "$prefix/bin/$DISTRIBUTION" ]; then
  echo "hardened-rke2: $DISTRIBUTION $RKE2_VERSION is already installed"
else
  case "$ARTIFACT_KIND" in
    tarball) tar -xzf "$dir/$tarball" -C "$prefix" ;;
    # K3s ships one static binary and no units: the units are rendered files (written before this step).
    binary)
      mkdir -p "$prefix/bin"
      cp "$dir/$tarball" "$prefix/bin/$DISTRIBUTION.tmp"
      chmod 0755 "$prefix/bin/$DISTRIBUTION.tmp"
      mv "$prefix/bin/$DISTRIBUTION.tmp" "$prefix/bin/$DISTRIBUTION"
      ;;
    *) fail "ARTIFACT_KIND is '$ARTIFACT_KIND' in $state/node.env; allowed: tarball, binary" ;;
  esac
  systemctl daemon-reload
  echo "$expected" >"$marker"
  echo "hardened-rke2: installed $DISTRIBUTION $RKE2_VERSION into $prefix"
fi

if [ "$INSTALL_MODE" = "airgap" ]; then
  # RKE2 and K3s import every archive in the agent images folder at start, so the cluster needs no registry.
  images="$IMAGES_DIR"
  mkdir -p "$images"
  chmod 0700 "$DATA_DIR/agent" "$images"
  while read -r _ file; do
    if [ "$file" = "$tarball" ]; then continue; fi
    if ! cmp -s "$dir/$file" "$images/$file"; then
      cp "$dir/$file" "$images/$file.tmp"
      chmod 0600 "$images/$file.tmp"
      mv "$images/$file.tmp" "$images/$file"
      echo "hardened-rke2: placed $file in $images"
    fi
  done <"$state/artifacts.sha256"
fi
