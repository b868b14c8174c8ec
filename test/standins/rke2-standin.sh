#!/usr/bin/env bash
# STAND-IN for the rke2 binary (the real one cannot run here). It does what matters at start: under a CIS profile it
# refuses to start when a kernel parameter or (on servers) the etcd user or group is wrong, in RKE2's own wording;
# it reads config.yaml and the token file; then it writes the node token, the admin kubeconfig (servers) and the
# kubelet kubeconfig, and logs the start with its join target so join order can be checked.
set -euo pipefail

role="${1:-}"
config=/etc/rancher/rke2/config.yaml
value() { sed -n "s/^$1: *//p" "$config" | head -n 1 | tr -d '"'; }

fatal() {
  echo "level=fatal msg=\"$*\"" >&2
  exit 1
}

[ -f "$config" ] || fatal "config file $config not found"
profile="$(value profile)"
case "$profile" in
  cis)
    for kv in vm/panic_on_oom=0 vm/overcommit_memory=1 kernel/panic=10 kernel/panic_on_oops=1; do
      key="${kv%%=*}"
      want="${kv#*=}"
      got="$(cat "/proc/sys/$key")"
      if [ "$got" != "$want" ]; then
        fatal "invalid kernel parameter value ${key//\//.}=$got - expected $want"
      fi
    done
    if [ "$role" = server ]; then
      grep -q '^etcd:' /etc/passwd || fatal "missing required: user: unknown user etcd"
      grep -q '^etcd:' /etc/group || fatal "missing required: group: unknown group etcd"
    fi
    ;;
  '') ;;
  *) fatal "invalid value provided for --profile flag" ;;
esac

token_file="$(value token-file)"
[ -s "$token_file" ] || fatal "token file $token_file is missing or empty"
[ "$(stat -c %a "$token_file")" = 600 ] || fatal "token file $token_file is not 0600"

node="$(value node-name)"
server="$(value server)"
mkdir -p /var/lib/rancher/rke2/agent /var/lib/rancher/rke2/server
echo "$(date +%s) start $role node=$node server=${server:-<bootstrap>}" >>/var/log/rke2-standin.log
if [ "$role" = server ]; then
  (umask 077 && printf 'K10standin::server:%s\n' "$(sha256sum "$token_file" | cut -c1-16)" >/var/lib/rancher/rke2/server/token)
  (umask 077 && printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://127.0.0.1:6443\n' >/etc/rancher/rke2/rke2.yaml)
fi
(umask 077 && printf 'apiVersion: v1\nkind: Config\n' >/var/lib/rancher/rke2/agent/kubelet.kubeconfig)
