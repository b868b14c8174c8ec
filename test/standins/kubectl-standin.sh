#!/usr/bin/env bash
# STAND-IN for kubectl (the real one: kubernetes/kubectl, pkg/cmd/drain and pkg/drain), only the calls the roll script
# (components/bootstrap/scripts/roll.sh) makes, answered from a state file instead of an API server:
#   /var/lib/kubectl-standin/nodes   lines "<name> <role> <Ready status> <kubeletVersion>"
#   /var/lib/kubectl-standin/blocked lines "<namespace>/<pod>": pods whose eviction a PodDisruptionBudget refuses
#   /var/lib/kubectl-standin/readyz  what /readyz and /readyz/etcd answer (default "ok")
#   /var/lib/kubectl-standin/cordoned  names of the nodes that are unschedulable (cordon adds, uncordon removes)
#   /var/lib/kubectl-standin/annotated lines "<name> <key>=<value>": the nodes' annotations (annotate sets, `key-` removes)
# `drain` prints what the real one prints when a budget refuses an eviction until its timeout (pkg/drain/drain.go:
# 'error when evicting pods/"%s" -n "%s" (will retry after 5s): %v'). Every call is logged to
# /var/log/kubectl-standin.log.
set -euo pipefail
state=/var/lib/kubectl-standin
echo "$*" >>/var/log/kubectl-standin.log
field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$state/nodes"; }
case "$1 $2" in
  "get node")
    node="$3"
    if [ -z "$(field "$node" 1)" ]; then
      echo "Error from server (NotFound): nodes \"$node\" not found" >&2
      exit 1
    fi
    case "${5:-}" in
      *Ready*) printf '%s' "$(field "$node" 3)" ;;
      *kubeletVersion*) printf '%s' "$(field "$node" 4)" ;;
      *unschedulable*) if grep -qx "$node" "$state/cordoned" 2>/dev/null; then printf true; fi ;;
      *annotations.*)
        key="${5#*annotations.}"
        key="${key%\}}"
        if [ -f "$state/annotated" ]; then
          awk -v n="$node" -v k="$key" '$1 == n && index($2, k "=") == 1 { printf "%s", substr($2, length(k) + 2) }' \
            "$state/annotated"
        fi
        ;;
    esac
    ;;
  "annotate --overwrite" | "annotate node")
    args=("$@")
    node="${args[${#args[@]} - 2]}" kv="${args[${#args[@]} - 1]}"
    key="${kv%%=*}"
    key="${key%-}"
    touch "$state/annotated"
    awk -v n="$node" -v k="$key" '!($1 == n && index($2, k "=") == 1)' "$state/annotated" >"$state/annotated.new"
    if [ "${kv%-}" = "$kv" ]; then echo "$node $kv" >>"$state/annotated.new"; fi
    mv "$state/annotated.new" "$state/annotated"
    echo "node/$node annotated"
    ;;
  "get nodes")
    awk '$2 == "server" { print $1 "=" $4 }' "$state/nodes"
    ;;
  "get --raw")
    cat "$state/readyz" 2>/dev/null || printf ok
    ;;
  "cordon "* | "uncordon "*)
    touch "$state/cordoned"
    grep -vx "$2" "$state/cordoned" >"$state/cordoned.new" || true # grep exits 1 when it keeps no line
    if [ "$1" = cordon ]; then echo "$2" >>"$state/cordoned.new"; fi
    mv "$state/cordoned.new" "$state/cordoned"
    echo "node/$2 ${1}ed"
    ;;
  "drain "*)
    if [ -s "$state/blocked" ]; then
      while IFS=/ read -r ns pod; do
        echo "evicting pod $ns/$pod"
        echo "error when evicting pods/\"$pod\" -n \"$ns\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
      done <"$state/blocked"
      echo "error: unable to drain node \"$2\" due to error: context deadline exceeded, continuing command..."
      exit 1
    fi
    echo "node/$2 drained"
    ;;
  *)
    echo "kubectl stand-in: unexpected call: $*" >&2
    exit 2
    ;;
esac
