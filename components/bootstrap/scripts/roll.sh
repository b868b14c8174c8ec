#!/usr/bin/env bash
# The roll's steps around a node's upgrade or restart, run as root on a server (the node itself when it is a server,
# the first server for an agent: only servers hold the admin kubeconfig, and a kubelet's own credentials may neither
# cordon its Node nor evict pods). Usage: roll.sh drain|gate|leave NODE ROLE VERSION TIMEOUT_SECONDS DISTRIBUTION
# DISTRIBUTION (rke2, k3s) picks the admin kubeconfig, kubectl and etcd annotation of that distribution.
#   drain     cordon the node and evict its pods through the Eviction API, which honours PodDisruptionBudgets
#             (`kubectl drain`, kubernetes.io/docs/tasks/administer-cluster/safely-drain-node); an agent is refused
#             while a server still runs another version (the kubelet may not be newer than the API server:
#             kubernetes.io/releases/version-skew-policy). A node this cordons is marked with the annotation
#             hardened-rke2/drained first; a node an operator had cordoned already is left unmarked.
#   gate      wait until the node is Ready at VERSION; for a server also until its API server is ready, which
#             includes its etcd member's health (/readyz/etcd). Then, only if the roll's drain cordoned it (the
#             annotation), make it schedulable again and remove the mark. A restart the stack made without a drain (a
#             config change) runs the gate too, and never uncordons a node an operator cordoned by hand.
#   leave     before the node's machine is replaced (an image change): drain it as above, then delete its Node. For a
#             server that still has peers, its etcd member is removed first through RKE2's etcd member management
#             controller (annotation etcd.rke2.cattle.io/remove=true, etcd.k3s.cattle.io/remove on K3s; the
#             controller sets a removed-node-name annotation once the member is gone: rancher/rke2#1818,
#             k3s-io/k3s#4001), then its Node is deleted on a peer: the removed member's own etcd stops ("K3s on the removed node will exit", k3s-io/k3s#13498),
#             and a Node deleted with its member still in etcd would leave a dead member behind. The successor
#             registers under the same name, which RKE2 refuses while the old Node holds it.
# A node not registered yet (its first `pulumi up`) has nothing to drain or leave, and is schedulable once Ready.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
action="$1" node="$2" role="$3" version="$4" timeout="$5" distribution="${6:-rke2}"
case "$distribution" in
  # K3s: its multi-call binary is kubectl (k3s-io/k3s install.sh links /usr/local/bin/kubectl to it), and its etcd
  # member management controller reads etcd.k3s.cattle.io/remove.
  k3s)
    export KUBECONFIG=/etc/rancher/k3s/k3s.yaml
    kubectl=(/usr/local/bin/k3s kubectl)
    unit=k3s
    node_unit=$([ "$role" = server ] && echo k3s || echo k3s-agent)
    ;;
  rke2)
    export KUBECONFIG=/etc/rancher/rke2/rke2.yaml
    kubectl=(/var/lib/rancher/rke2/bin/kubectl)
    unit=rke2-server
    node_unit="rke2-$role"
    ;;
  *)
    echo "hardened-rke2: unknown distribution '$distribution'; allowed: rke2, k3s" >&2
    exit 1
    ;;
esac
poll="${ROLL_POLL_SECONDS:-5}"

stopped() {
  echo "hardened-rke2: the roll stopped at $node: $*. The nodes after it were not touched and the cluster keeps serving; fix $node and run 'pulumi up' again to resume from it." >&2
  exit 1
}

registered() {
  [ -x "${kubectl[0]}" ] && [ -s "$KUBECONFIG" ] && "${kubectl[@]}" get node "$node" >/dev/null 2>&1
}

# The mark a drain leaves on a node it cordoned (the same key in marked's jsonpath); the gate uncordons only a node
# that carries it.
mark=hardened-rke2/drained

marked() {
  [ "$("${kubectl[@]}" get node "$node" -o jsonpath='{.metadata.annotations.hardened-rke2/drained}')" = true ]
}

# Uncordons the node only if the roll's drain cordoned it: uncordon first, then remove the mark, so a failure
# between the two leaves the mark for the next gate to finish. Prints what it did.
release_node() {
  if marked; then
    "${kubectl[@]}" uncordon "$node" >/dev/null
    "${kubectl[@]}" annotate node "$node" "$mark-" >/dev/null
    echo "the node was made schedulable again"
  else
    echo "the node was cordoned before the drain and stays cordoned"
  fi
}

drain_node() {
  # Marked before the cordon, so no failure can leave a node cordoned by the roll without the mark. A node already
  # cordoned and not marked was cordoned by someone else: it is drained, and stays cordoned after the roll.
  if [ "$("${kubectl[@]}" get node "$node" -o jsonpath='{.spec.unschedulable}')" != true ] || marked; then
    "${kubectl[@]}" annotate --overwrite node "$node" "$mark=true" >/dev/null
  fi
  "${kubectl[@]}" cordon "$node"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! "${kubectl[@]}" drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout="${timeout}s" >"$log" 2>&1; then
    cat "$log" >&2
    # kubectl names each pod whose eviction a PodDisruptionBudget refused ("error when evicting pods/\"x\" -n \"ns\""),
    # and each pod it cannot evict at all (no controller, local storage) in its first error.
    blocking="$(sed -n 's/.*evicting pods\/"\([^"]*\)" -n "\([^"]*\)".*/\2\/\1/p' "$log" | sort -u |
      awk 'NR > 1 { printf ", " } { printf "%s", $0 }')"
    released="$(release_node)" || released="making it schedulable again failed too: run 'kubectl uncordon $node'"
    if [ -n "$blocking" ]; then
      stopped "draining it did not finish within ${timeout}s: pod(s) $blocking could not be evicted (a PodDisruptionBudget allows no disruption now); $released"
    fi
    stopped "draining it failed: $(grep -m1 -i error "$log" || tail -n1 "$log"); $released"
  fi
}

case "$action" in
  drain)
    if ! registered; then
      echo "hardened-rke2: $node is not a node of the cluster yet; nothing to drain"
      exit 0
    fi
    if [ "$role" = agent ]; then
      behind="$("${kubectl[@]}" get nodes -l node-role.kubernetes.io/control-plane=true \
        -o jsonpath='{range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\n"}{end}' |
        awk -F= -v v="$version" '$2 != v { printf "%s%s (%s)", sep, $1, $2; sep = ", " }')"
      if [ -n "$behind" ]; then
        stopped "refusing to upgrade agent $node to $version while server(s) $behind run another version; agents must never be newer than the servers"
      fi
    fi
    drain_node
    echo "hardened-rke2: drained $node"
    ;;
  gate)
    deadline=$(($(date +%s) + timeout))
    while true; do
      ready="" kubelet="" api="not checked"
      if registered; then
        ready="$("${kubectl[@]}" get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)"
        kubelet="$("${kubectl[@]}" get node "$node" -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null || true)"
        if [ "$role" = server ]; then
          api="$("${kubectl[@]}" get --raw /readyz 2>/dev/null || true)"
          etcd="$("${kubectl[@]}" get --raw /readyz/etcd 2>/dev/null || true)"
          if [ "$etcd" != ok ]; then api="etcd: ${etcd:-no answer}"; fi
        fi
      fi
      if [ "$ready" = True ] && [ "$kubelet" = "$version" ] && { [ "$role" = agent ] || [ "$api" = ok ]; }; then
        health=""
        if [ "$role" = server ]; then health=" (API server ready, etcd member healthy)"; fi
        echo "hardened-rke2: $node is Ready at $version$health"
        if marked; then
          release_node >/dev/null
          echo "hardened-rke2: uncordoned $node (the roll's drain had cordoned it)"
        fi
        exit 0
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        stopped "it is not healthy at $version after ${timeout}s (Ready: ${ready:-unknown}, kubelet: ${kubelet:-unknown}, API server: ${api:-no answer}); see 'journalctl -u $node_unit' on $node"
      fi
      sleep "$poll"
    done
    ;;
  leave)
    if ! registered; then
      echo "hardened-rke2: $node is not a node of the cluster yet; nothing to leave"
      exit 0
    fi
    drain_node
    echo "hardened-rke2: drained $node"
    peer=""
    if [ "$role" = server ]; then
      peer="$("${kubectl[@]}" get nodes -l node-role.kubernetes.io/etcd=true \
        -o jsonpath='{range .items[*]}{.metadata.name}={.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' |
        awk -F= -v n="$node" '$1 != n && $2 != "" { print $2; exit }')"
    fi
    if [ "$role" = server ] && [ -z "$peer" ]; then
      # The only server: etcd goes with its machine, and the cluster with it (README, "Changing the image").
      echo "hardened-rke2: $node is the cluster's only server; its etcd goes with its machine"
      exit 0
    fi
    if [ -n "$peer" ]; then
      "${kubectl[@]}" annotate --overwrite node "$node" "etcd.$distribution.cattle.io/remove=true"
      deadline=$(($(date +%s) + timeout))
      until "${kubectl[@]}" --server "https://$peer:6443" get node "$node" -o jsonpath='{.metadata.annotations}' 2>/dev/null |
        grep -q 'removed-node-name'; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
          stopped "its etcd member was not removed within ${timeout}s (no removed-node-name annotation on its Node, asked through $peer); see 'journalctl -u $unit' on the servers"
        fi
        sleep "$poll"
      done
      echo "hardened-rke2: $node left etcd"
      "${kubectl[@]}" --server "https://$peer:6443" delete node "$node" --wait=true
    else
      "${kubectl[@]}" delete node "$node" --wait=true
    fi
    echo "hardened-rke2: $node deleted from the cluster; its machine can go"
    ;;
  *)
    echo "hardened-rke2: unknown roll action '$action'; allowed: drain, gate, leave" >&2
    exit 1
    ;;
esac
