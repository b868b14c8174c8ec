#!/usr/bin/env bash
# STAND-IN for the rke2 binary (the real one cannot run here). It does what matters at start: under a CIS profile it
# refuses to start when a kernel parameter or (on servers) the etcd user or group is wrong, in RKE2's own wording;
# it reads config.yaml and the token file; then it writes the node token, the admin kubeconfig (servers) and the
# kubelet kubeconfig, and logs the start with its join target so join order can be checked.
# On the first server, when the test has put real etcd, kube-apiserver and kube-controller-manager binaries in
# /opt/standin-control-plane/bin, it starts them as RKE2 would: flags from config.yaml's keys, bound to the host's
# own address (the file /etc/standin-host-address stands in for the node's interface), and an admin kubeconfig.
set -euo pipefail

role="${1:-}"
config=/etc/rancher/rke2/config.yaml
value() { sed -n "s/^$1: *//p" "$config" | head -n 1 | tr -d '"'; }
# The items of a top-level YAML list, one per line (config.yaml as this product renders it).
items() { sed -n "/^$1:\$/,/^[^ ]/s/^  - //p" "$config"; }

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

control_plane=/opt/standin-control-plane/bin
if [ "$role" != server ] || [ -n "$server" ] || [ ! -x "$control_plane/kube-apiserver" ]; then exit 0; fi

address="$(cat /etc/standin-host-address)"
tls=/var/lib/rancher/rke2/server/tls
run=/run/standin/control-plane
mkdir -p "$tls" "$run" /var/lib/rancher/rke2/server/cred
# A restart (a changed config.yaml) stops the running control plane first, as systemd would.
for pidfile in "$run"/*.pid; do
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
done

ssl() { openssl "$@" 2>/dev/null; }
if [ ! -f "$tls/server-ca.crt" ]; then
  (
    umask 077
    ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=rke2-server-ca \
      -keyout "$tls/server-ca.key" -out "$tls/server-ca.crt"
    sans="IP:127.0.0.1,IP:$address"
    for san in $(items tls-san); do
      case "$san" in *[!0-9.]*) sans="$sans,DNS:$san" ;; *) sans="$sans,IP:$san" ;; esac
    done
    leaf() { # name subject extensions
      ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$tls/$1.key" -out "$tls/$1.csr"
      printf '%s\n' "$3" >"$tls/$1.ext"
      ssl x509 -req -in "$tls/$1.csr" -CA "$tls/server-ca.crt" -CAkey "$tls/server-ca.key" -CAcreateserial \
        -days 2 -extfile "$tls/$1.ext" -out "$tls/$1.crt"
    }
    leaf serving-kube-apiserver /CN=kube-apiserver "subjectAltName=$sans"
    leaf client-admin /O=system:masters/CN=system:admin "extendedKeyUsage=clientAuth"
    ssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/service.key"
    ssl pkey -in "$tls/service.key" -pubout -out "$tls/service.pub"
    if [ "$(value secrets-encryption)" = true ]; then
      printf '{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"standin","secret":"%s"}]}},{"identity":{}}]}]}\n' \
        "$(head -c 32 /dev/urandom | base64)" >/var/lib/rancher/rke2/server/cred/encryption-config.json
    fi
  )
fi
b64() { base64 -w0 "$1"; }
kubeconfig() { # server
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n' \
    "$1" "$(b64 "$tls/server-ca.crt")"
  printf 'users:\n- name: default\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n' \
    "$(b64 "$tls/client-admin.crt")" "$(b64 "$tls/client-admin.key")"
  printf 'contexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n'
}
(umask 077 && kubeconfig "https://$address:6443" >/var/lib/rancher/rke2/server/cred/admin.kubeconfig)

daemon() { # name args...
  local name="$1"
  shift
  setsid "$control_plane/$name" "$@" </dev/null >>"/var/log/standin-$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
}
daemon etcd --name="$node" --data-dir=/var/lib/rancher/rke2/server/db/etcd \
  --listen-client-urls="http://$address:2379" --advertise-client-urls="http://$address:2379" \
  --listen-peer-urls="http://$address:2380" --initial-advertise-peer-urls="http://$address:2380" \
  --initial-cluster="$node=http://$address:2380" --listen-metrics-urls=

# What RKE2 derives from config.yaml's own keys, then each kube-apiserver-arg item as a flag.
api_args=(--etcd-servers="http://$address:2379" --bind-address="$address" --advertise-address="$address"
  --secure-port=6443 --tls-cert-file="$tls/serving-kube-apiserver.crt"
  --tls-private-key-file="$tls/serving-kube-apiserver.key" --client-ca-file="$tls/server-ca.crt"
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$tls/service.pub" --service-account-signing-key-file="$tls/service.key"
  --service-cluster-ip-range="$(value service-cidr)" "--authorization-mode=Node,RBAC" --anonymous-auth=false
  --allow-privileged=true --endpoint-reconciler-type=none)
[ -n "$(value audit-policy-file)" ] && api_args+=(--audit-policy-file="$(value audit-policy-file)")
[ -n "$(value pod-security-admission-config-file)" ] &&
  api_args+=(--admission-control-config-file="$(value pod-security-admission-config-file)")
[ -f /var/lib/rancher/rke2/server/cred/encryption-config.json ] &&
  api_args+=(--encryption-provider-config=/var/lib/rancher/rke2/server/cred/encryption-config.json)
while IFS= read -r arg; do
  [ -n "$arg" ] || continue
  api_args+=("--$arg")
  case "$arg" in audit-log-path=*) mkdir -p "$(dirname "${arg#audit-log-path=}")" ;; esac
done <<<"$(items kube-apiserver-arg)"
daemon kube-apiserver "${api_args[@]}"

kcm_args=(--kubeconfig=/var/lib/rancher/rke2/server/cred/admin.kubeconfig
  --authentication-kubeconfig=/var/lib/rancher/rke2/server/cred/admin.kubeconfig
  --authorization-kubeconfig=/var/lib/rancher/rke2/server/cred/admin.kubeconfig
  --bind-address="$address" --secure-port=10257 --cert-dir=/var/lib/rancher/rke2/server/tls/kube-controller-manager
  --service-account-private-key-file="$tls/service.key" --root-ca-file="$tls/server-ca.crt"
  "--controllers=serviceaccount,serviceaccount-token,namespace,podgc,garbagecollector"
  --use-service-account-credentials=false --leader-elect=false)
while IFS= read -r arg; do
  [ -n "$arg" ] && kcm_args+=("--$arg")
done <<<"$(items kube-controller-manager-arg)"
daemon kube-controller-manager "${kcm_args[@]}"

# RKE2 writes the admin kubeconfig for https://127.0.0.1:6443; the product reads it back and rewrites the address.
(umask 077 && kubeconfig https://127.0.0.1:6443 >/etc/rancher/rke2/rke2.yaml)

# `systemctl start rke2-server` returns once the server is up (the unit is Type=notify; RKE2 notifies when its API
# server answers), so the stand-in waits, bounded, for /readyz and for the controller manager's default
# ServiceAccount, as a caller of the real one may rely on.
api() { # method path [json body] -> the HTTP status code
  local body="${3:-}"
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' \
    "$1" "$2" "$address" "${#body}" "$body" |
    openssl s_client -quiet -connect "$address:6443" -cert "$tls/client-admin.crt" -key "$tls/client-admin.key" \
      -CAfile "$tls/server-ca.crt" 2>/dev/null | head -n 1 | cut -d' ' -f2
}
for _ in $(seq 240); do
  [ "$(api GET /readyz)" = 200 ] && [ "$(api GET /api/v1/namespaces/kube-system/serviceaccounts/default)" = 200 ] && break
  sleep 0.5
done
[ "$(api GET /readyz)" = 200 ] || fatal "kube-apiserver did not become ready within 120s"
# What RKE2 applies itself under the CIS profile (rke2 pkg/rke2/np.go): its default-network-policy in kube-system,
# kube-public and default, which the product's objects must leave alone.
for ns in kube-system kube-public default; do
  status="$(api POST "/apis/networking.k8s.io/v1/namespaces/$ns/networkpolicies" \
    '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-network-policy"},"spec":{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{}}]}]}}')"
  case "$status" in 201 | 409) ;; *) fatal "creating default-network-policy in $ns answered $status" ;; esac
done
