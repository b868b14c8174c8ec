#!/usr/bin/env bash
# STAND-IN for systemctl inside a test root: there is no systemd there. It records every call in
# /var/log/systemctl-standin.log, keeps enabled/active state in /run/standin, and "starts" rke2-server or rke2-agent
# by running the unit's ExecStart once (the RKE2 stand-in exits after writing what the real one writes at start).
# `stop` ends the processes the RKE2 stand-in started (its pid files), as systemd ends a unit's processes.
set -euo pipefail

log=/var/log/systemctl-standin.log
state=/run/standin
mkdir -p "$state"
echo "systemctl $*" >>"$log"

quiet=false
args=()
for a in "$@"; do
  if [ "$a" = "--quiet" ] || [ "$a" = "-q" ]; then quiet=true; else args+=("$a"); fi
done
verb="${args[0]:-}"
unit="${args[1]:-}"
unit="${unit%.service}"

run_unit() {
  local file
  for dir in /usr/local/lib/systemd/system /etc/systemd/system /usr/lib/systemd/system; do
    file="$dir/$unit.service"
    if [ -f "$file" ]; then
      local exec
      exec="$(sed -n 's/^ExecStart=//p' "$file" | head -n 1)"
      # Word splitting of the unit's command line is intended, as systemd does it.
      # shellcheck disable=SC2086
      $exec
      return
    fi
  done
  echo "systemctl-standin: unit $unit.service not found" >&2
  return 5
}

case "$verb" in
  daemon-reload) ;;
  enable) touch "$state/$unit.enabled" ;;
  start | restart)
    rm -f "$state/$unit.active"
    run_unit
    touch "$state/$unit.active"
    ;;
  stop)
    rm -f "$state/$unit.active"
    # The RKE2 stand-in runs each process under a loop of its own (pid in <name>.loop): ending the loop ends its
    # process, as systemd ends a unit's processes. Only loops are signalled (rke2-standin.sh says why).
    for loop in /run/standin/control-plane/*.loop; do
      [ -f "$loop" ] || continue
      pid="$(cat "$loop")"
      case "$pid" in '' | *[!0-9]*) continue ;; esac
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 300); do
        if [ ! -f "$loop" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
      done
      rm -f "$loop"
    done
    ;;
  is-active)
    if [ -f "$state/$unit.active" ]; then
      if [ "$quiet" = false ]; then echo active; fi
      exit 0
    fi
    if [ "$quiet" = false ]; then echo inactive; fi
    exit 3
    ;;
  *)
    echo "systemctl-standin: unsupported verb '$verb'" >&2
    exit 1
    ;;
esac
