# shellcheck shell=bash disable=SC2154  # $root is set by the script that sources this file
# Sourced by make-root.sh and add-sshd.sh: copies a binary of this machine into the test root "$root" at the same
# path, with every shared library ldd lists for it (libraries already there are kept).
copy_with_libs() {
  local bin="$1"
  local target="$root/usr/${bin#/usr/}"
  if [ "${bin#/usr/}" = "$bin" ]; then target="$root$bin"; fi
  mkdir -p "$(dirname "$target")"
  cp -L "$bin" "$target"
  ldd "$bin" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
    local dest="$root$lib"
    if [ ! -e "$dest" ]; then
      mkdir -p "$(dirname "$dest")"
      cp -L "$lib" "$dest"
    fi
  done
}
