#!/usr/bin/env bash
# STAND-IN for journalctl inside a test root: there is no journald there. The K3s stand-in appends the lines K3s logs
# (`Running kube-apiserver <flags>` ...) to /var/log/k3s-standin-journal.log; this prints them for the units K3s runs
# as (`-u k3s`, `-u k3s-agent`), as `journalctl -m -u <unit> -o cat` prints a unit's messages (journalctl(1): -o cat
# shows the message field only). Other options are accepted and ignored; another unit prints nothing.
set -euo pipefail
journal=/var/log/k3s-standin-journal.log
want=false
while [ "$#" -gt 0 ]; do
  case "$1" in
    -u | --unit)
      case "${2:-}" in k3s | k3s.service | k3s-agent | k3s-agent.service) want=true ;; esac
      shift
      ;;
  esac
  shift
done
if [ "$want" = true ] && [ -f "$journal" ]; then cat "$journal"; fi
exit 0
