#!/usr/bin/env bash
# STAND-IN for the k3s binary (the real one cannot run here). It does what matters at start for the hardening: with
# `protect-kernel-defaults: true` in /etc/rancher/k3s/config.yaml its kubelet refuses to start when a kernel
# parameter differs from what the kubelet needs, in the kubelet's wording (kubernetes pkg/kubelet/cm
# container_manager_linux.go: "invalid kernel flag: %v, expected value: %v, actual value: %v"); it reads the token
# file; then it writes what K3s writes once it runs (the server token and admin kubeconfig on servers, the kubelet
# kubeconfig on agents) and logs the start with its join target, so the join order can be checked. It starts no
# Kubernetes component.
set -euo pipefail

version=v1.33.5+k3s1
if [ "${1:-}" = --version ]; then
  printf 'k3s version %s (STAND-IN)\n' "$version"
  exit 0
fi

role="${1:-}"
config=/etc/rancher/k3s/config.yaml
value() { sed -n "s/^$1: *//p" "$config" | head -n 1 | tr -d '"'; }

fatal() {
  echo "level=fatal msg=\"$*\"" >&2
  exit 1
}

[ -f "$config" ] || fatal "config file $config not found"
if [ "$(value protect-kernel-defaults)" = true ]; then
  for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1; do
    key="${kv%%=*}"
    want="${kv#*=}"
    got="$(cat "/proc/sys/$key")"
    if [ "$got" != "$want" ]; then
      fatal "failed to run Kubelet: invalid kernel flag: $key, expected value: $want, actual value: $got"
    fi
  done
fi
token_file="$(value token-file)"
[ -s "$token_file" ] || fatal "token file $token_file is empty or missing"
server="$(value server)"

case "$role" in
  server)
    mkdir -p /var/lib/rancher/k3s/server
    (umask 077 && cp "$token_file" /var/lib/rancher/k3s/server/token)
    (umask 077 && printf 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n' \
      >/etc/rancher/k3s/k3s.yaml)
    ;;
  agent)
    mkdir -p /var/lib/rancher/k3s/agent
    (umask 077 && printf 'apiVersion: v1\nkind: Config\n' >/var/lib/rancher/k3s/agent/kubelet.kubeconfig)
    ;;
  *) fatal "unknown command '$role'; allowed: server, agent" ;;
esac
echo "start $role node=$(value node-name) server=${server:-<cluster-init=$(value cluster-init)>}" >>/var/log/k3s-standin.log
