#!/usr/bin/env bash
# Step "files": writes every rendered file of the node, read from standard input one record per line:
#   <absolute path> <octal mode> <owner> <group> <base64 of the content>
# A file is replaced only when its content, mode or owner differ, through a temporary file renamed into place, so a
# reader never sees half a file and a file holding a secret never exists with a wider mode. Files an earlier run wrote
# that are no longer rendered are removed. Prints paths only, never content.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 077

state=/var/lib/hardened-rke2
manifest="$state/files.list"
mkdir -p "$state"
chmod 0755 "$state"
# The air-gap artifacts are copied in over SFTP as the SSH user, so that user owns the folder; the install step
# verifies every artifact's checksum as root before using it.
mkdir -p "$state/artifacts"
chown "${SUDO_USER:-root}" "$state/artifacts"
chmod 0700 "$state/artifacts"

written="$(mktemp "$state/.files.list.XXXXXX")"
changed=0
while read -r path mode owner group data; do
  if [ -z "$path" ]; then continue; fi
  case "$path" in
    /*) ;;
    *)
      echo "hardened-rke2: refusing the relative path '$path'" >&2
      exit 1
      ;;
  esac
  dir="${path%/*}"
  mkdir -p "$dir"
  tmp="$(mktemp "$dir/.hardened-rke2.XXXXXX")"
  printf '%s' "$data" | base64 -d >"$tmp"
  chown "$owner:$group" "$tmp"
  chmod "$mode" "$tmp"
  want="$(printf '%o' "$((8#$mode))") $owner $group"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c '%a %U %G' "$path")" = "$want" ]; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$path"
    echo "hardened-rke2: wrote $path"
    changed=$((changed + 1))
  fi
  echo "$path" >>"$written"
done

if [ -f "$manifest" ]; then
  while read -r old; do
    if [ -f "$old" ] && ! grep -qxF "$old" "$written"; then
      rm -f "$old"
      echo "hardened-rke2: removed $old (no longer rendered)"
      changed=$((changed + 1))
    fi
  done <"$manifest"
fi
chmod 0644 "$written"
mv -f "$written" "$manifest"
echo "hardened-rke2: $changed file(s) changed"
