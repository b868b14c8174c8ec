#!/usr/bin/env bash
# STAND-IN for the k3s binary (the real one cannot run here). It does what matters at start for the hardening: it
# reads /etc/rancher/k3s/config.yaml (docs.k3s.io installation/configuration, "Configuration File"); with
# `protect-kernel-defaults: true` there its kubelet refuses to start when a kernel parameter differs from what the
# kubelet needs, in the kubelet's wording (docs.k3s.io security/hardening-guide, "Ensure protect-kernel-defaults is
# set"; kubernetes pkg/kubelet/cm container_manager_linux.go: "invalid kernel flag: %v, expected value: %v, actual
# value: %v"); it reads the token file; then it writes what K3s writes once it runs (the server token and admin
# kubeconfig on servers, the kubelet kubeconfig on agents) and logs the start with its join target, so the join order
# can be checked.
#
# When the test has put the real binaries in /opt/standin-control-plane/bin (built from Go modules by
# e2e/toolchain/build.sh), a server with `cluster-init: true` goes further, following K3s's sources (k3s-io/k3s
# pkg/daemons/control/server.go apiServer, controllerManager, scheduler; pkg/daemons/config GetArgs):
# - K3s's certificates and kubeconfigs under /var/lib/rancher/k3s/server (tls/, cred/), and with
#   `secrets-encryption: true` its encryption config, server/cred/encryption-config.json (docs.k3s.io
#   security/secrets-encryption);
# - an etcd member (K3s's embedded etcd, docs.k3s.io datastore/ha-embedded) with its config file in server/db/etcd;
# - the real kube-apiserver, kube-controller-manager (and kube-scheduler when built) with K3s's default flags and the
#   config's `kube-apiserver-arg` / `kube-controller-manager-arg` / `kube-scheduler-arg` items
#   (docs.k3s.io cli/server, "Customized Flags for Kubernetes Processes");
# - a STAND-IN journal, /var/log/k3s-standin-journal.log: K3s logs each component's command line as it starts it
#   (`Running kube-apiserver <flags>`), and K3s's CIS self-assessment audits read that line from
#   `journalctl -u k3s`, since the components have no process of their own (docs.k3s.io security/self-assessment-1.12);
#   there is no journald in a test root.
# What differs from K3s: K3s runs every component inside its one k3s process (docs.k3s.io architecture); here each
# runs as a process of its own, restarted when it exits (K3s exits when one of its components does, and its unit's
# Restart=always starts it again). The test hosts share one network namespace (loopback addresses 127.0.1.N, given
# by /etc/standin-host-address), so etcd, the API server (on 6443 directly, with no supervisor in front of 6444), the
# controller manager, the scheduler and the kubeconfigs use the host's address instead of 127.0.0.1. A server
# without `cluster-init` (kine/SQLite, or joining another server) and the kubelet are not stood in.
set -euo pipefail

version=v1.33.5+k3s1
if [ "${1:-}" = --version ]; then
  printf 'k3s version %s (STAND-IN)\n' "$version"
  exit 0
fi

role="${1:-}"
config=/etc/rancher/k3s/config.yaml
value() { sed -n "s/^$1: *//p" "$config" | head -n 1 | tr -d '"'; }
# The items of a top-level YAML list, one per line (config.yaml as this product renders it).
items() { sed -n "/^$1:\$/,/^[^ ]/s/^  - //p" "$config" | tr -d '"'; }

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
data=/var/lib/rancher/k3s
tools=/opt/standin-control-plane/bin
node="$(value node-name)"
address="$(cat /etc/standin-host-address 2>/dev/null || echo 127.0.0.1)"
journal=/var/log/k3s-standin-journal.log

# K3s's GetArgs (pkg/daemons/config): the defaults as a map, each `<component>-arg` item of config.yaml replacing the
# default of its key (a bare key means "true"), then every flag sorted by name. Unlike RKE2, K3s prepends nothing:
# a flag the hardening guide asks for is on the command line only when config.yaml gives it.
declare -A argmap
sorted_args() { # <config.yaml list>: prints --key=value lines
  local item
  while IFS= read -r item; do
    case "$item" in
      '') ;;
      *=*) argmap["${item%%=*}"]="${item#*=}" ;;
      *) argmap["$item"]=true ;;
    esac
  done <<<"$(items "$1")"
  for item in "${!argmap[@]}"; do printf -- '--%s=%s\n' "$item" "${argmap[$item]}"; done | LC_ALL=C sort -t= -k1,1
  argmap=()
}
# The line K3s logs as it starts a component (logrus.Infof("Running kube-apiserver %s", config.ArgString(args))).
logged() { # component args...
  local component="$1"
  shift
  printf 'time="%s" level=info msg="Running %s %s"\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$component" "$*" >>"$journal"
}

# ---- the agent side every K3s node runs inside its k3s process (docs.k3s.io architecture): the kubelet and
# kube-proxy. Neither runs here (no containerd, no iptables in a test root); what K3s writes for them is written (the
# kubeconfigs, the client CA, the kubelet's defaults drop-in, K3s's names and modes: self-assessment-1.12 4.1.x, and
# 00-<program>-defaults.conf from k3s pkg/daemons/agent), and their start lines are logged with K3s's defaults and the
# config's kubelet-arg / kube-proxy-arg items (agent_linux.go kubeletArgsAndConfig, kubeProxyArgs; the lines as the
# self-assessment's returned values show them), so the node's CIS checks read what they read on a K3s node.
agent_side() {
  local agent=$data/agent confd=$data/agent/etc/kubelet.conf.d
  mkdir -p "$confd"
  (
    umask 077
    [ -f "$agent/kubelet.kubeconfig" ] || printf 'apiVersion: v1\nkind: Config\n' >"$agent/kubelet.kubeconfig"
    [ -f "$agent/kubeproxy.kubeconfig" ] || printf 'apiVersion: v1\nkind: Config\n' >"$agent/kubeproxy.kubeconfig"
    if [ -f "$data/server/tls/client-ca.crt" ]; then
      cp "$data/server/tls/client-ca.crt" "$agent/client-ca.crt"
    elif [ ! -f "$agent/client-ca.crt" ]; then
      printf 'STAND-IN client CA (a joining node fetches it from its server)\n' >"$agent/client-ca.crt"
    fi
    {
      printf 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n'
      printf 'authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 2m0s\n    enabled: true\n'
      printf '  x509:\n    clientCAFile: %s\nauthorization:\n  mode: Webhook\n' "$agent/client-ca.crt"
      printf 'clusterDNS:\n- 10.43.0.10\nclusterDomain: cluster.local\n'
      [ "$(value protect-kernel-defaults)" = true ] && printf 'protectKernelDefaults: true\n'
      printf 'readOnlyPort: 0\nstaticPodPath: %s/pod-manifests\n' "$agent"
      printf 'tlsCertFile: %s/serving-kubelet.crt\ntlsPrivateKeyFile: %s/serving-kubelet.key\n' "$agent" "$agent"
    } >"$confd/00-k3s-defaults.conf"
  )
  argmap=(
    [cloud-provider]=external [config-dir]="$confd" [containerd]=/run/k3s/containerd/containerd.sock
    [event-qps]=0 [hostname-override]="$node" [kubeconfig]="$agent/kubelet.kubeconfig" [node-ip]="$address"
    [node-labels]="" [read-only-port]=0
  )
  mapfile -t kubelet_args <<<"$(sorted_args kubelet-arg)"
  logged kubelet "${kubelet_args[@]}"
  local cluster_cidr
  cluster_cidr="$(value cluster-cidr)"
  argmap=(
    [cluster-cidr]="${cluster_cidr:-10.42.0.0/16}" [conntrack-max-per-core]=0 [conntrack-tcp-timeout-close-wait]=0s
    [conntrack-tcp-timeout-established]=0s [healthz-bind-address]=127.0.0.1 [hostname-override]="$node"
    [kubeconfig]="$agent/kubeproxy.kubeconfig" [proxy-mode]=iptables
  )
  mapfile -t proxy_args <<<"$(sorted_args kube-proxy-arg)"
  logged kube-proxy "${proxy_args[@]}"
}

case "$role" in
  server)
    mkdir -p "$data/server"
    (umask 077 && cp "$token_file" "$data/server/token")
    if [ ! -x "$tools/kube-apiserver" ]; then
      (umask 077 && printf 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n' \
        >/etc/rancher/k3s/k3s.yaml)
    fi
    ;;
  agent)
    mkdir -p "$data/agent"
    (umask 077 && printf 'apiVersion: v1\nkind: Config\n' >"$data/agent/kubelet.kubeconfig")
    ;;
  *) fatal "unknown command '$role'; allowed: server, agent" ;;
esac
echo "start $role node=$(value node-name) server=${server:-<cluster-init=$(value cluster-init)>}" >>/var/log/k3s-standin.log
if [ "$role" != server ] || [ ! -x "$tools/kube-apiserver" ]; then
  agent_side
  exit 0
fi
if [ "$(value cluster-init)" != true ] || [ -n "$server" ]; then
  fatal "STAND-IN: only a first server with cluster-init: true runs a control plane here"
fi

tls=$data/server/tls
cred=$data/server/cred
run=/run/standin/control-plane
mkdir -p "$run"

# ---- processes: each component under a loop of its own (its session leader, pid in $run/<name>.loop; the systemctl
# stand-in's `stop` signals these loops) that starts it again a second after it exits. Only loops are signalled: a
# loop stops its process and reaps it before it ends (rke2-standin.sh says why a bare pid is never signalled).
supervise() { # name command args...: output to /var/log/standin-<name>.log
  local name="$1"
  shift
  # shellcheck disable=SC2016 # the loop's variables are its own
  setsid bash -c '
    name=$1 run=$2
    shift 2
    pid=
    stop() {
      trap "" TERM
      if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
      fi
      rm -f "$run/$name.pid" "$run/$name.loop"
      exit 0
    }
    trap stop TERM
    while :; do
      "$@" </dev/null >>"/var/log/standin-$name.log" 2>&1 &
      pid=$!
      echo "$pid" >"$run/$name.pid"
      status=0
      wait "$pid" || status=$?
      pid=
      echo "STAND-IN: $name exited ($status); started again, as systemd restarts k3s (Restart=always)" >>"/var/log/standin-$name.log"
      sleep 1
    done' supervise "$name" "$run" "$@" </dev/null >/dev/null 2>&1 &
  echo $! >"$run/$name.loop"
}

# A restart (a changed config.yaml) stops what the previous start began first, as systemd stops the unit's processes.
for loop in "$run"/*.loop; do
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

# ---- certificates: K3s's names (pkg/daemons/control/deps/deps.go genServerCerts, genClientCerts, genETCDCerts);
# .crt 0644, .key 0600 (K3s self-assessment 1.1.20, 1.1.21), tls/ and cred/ 0700.
ssl() { openssl "$@" 2>/dev/null; }
ca() { # file CN
  ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=$2" \
    -keyout "$tls/$1.key" -out "$tls/$1.crt"
}
leaf() { # file ca subject extensions
  ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$3" -keyout "$tls/$1.key" -out "$tls/$1.csr"
  printf '%s\n' "$4" >"$tls/$1.ext"
  ssl x509 -req -in "$tls/$1.csr" -CA "$tls/$2.crt" -CAkey "$tls/$2.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 365 -extfile "$tls/$1.ext" -out "$tls/$1.crt"
  rm -f "$tls/$1.csr" "$tls/$1.ext"
}
sans="IP:127.0.0.1,IP:$address,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
sans="$sans,DNS:kubernetes.default.svc.cluster.local"
for san in $(items tls-san); do
  case "$san" in *[!0-9.]*) sans="$sans,DNS:$san" ;; *) sans="$sans,IP:$san" ;; esac
done
client="extendedKeyUsage=clientAuth"
serving="extendedKeyUsage=serverAuth
subjectAltName=$sans"
both="extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,IP:$address,DNS:localhost,DNS:$node"
(
  umask 077
  mkdir -p "$tls/etcd" "$tls/kube-controller-manager" "$tls/kube-scheduler" "$tls/temporary-certs" "$cred"
  chmod 0700 "$tls" "$cred"
  if [ ! -f "$tls/client-admin.crt" ]; then
    ca server-ca "k3s-server-ca@standin"
    ca client-ca "k3s-client-ca@standin"
    ca request-header-ca "k3s-request-header-ca@standin"
    ca etcd/server-ca "etcd-server-ca@standin"
    ca etcd/peer-ca "etcd-peer-ca@standin"
    leaf client-admin client-ca /O=system:masters/CN=system:admin "$client"
    leaf client-kube-apiserver client-ca /O=system:masters/CN=system:kube-apiserver "$client"
    leaf client-controller client-ca /CN=system:kube-controller-manager "$client"
    leaf client-scheduler client-ca /CN=system:kube-scheduler "$client"
    leaf client-auth-proxy request-header-ca /CN=system:auth-proxy "$client"
    leaf etcd/client etcd/server-ca /CN=etcd-client "$client"
    leaf serving-kube-apiserver server-ca /CN=kube-apiserver "$serving"
    leaf kube-controller-manager/kube-controller-manager server-ca /CN=kube-controller-manager "$serving"
    leaf kube-scheduler/kube-scheduler server-ca /CN=kube-scheduler "$serving"
    leaf etcd/server-client etcd/server-ca /CN=etcd-server "$both"
    leaf etcd/peer-server-client etcd/peer-ca /CN=etcd-peer "$both"
    # An RSA key in PEM, as K3s writes service.key (deps.go genServiceAccount): the API server reads it as a public
    # key list, which takes an EC key only in SEC1 form, not openssl's default PKCS#8.
    ssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tls/service.key"
  fi
  find "$tls" -name '*.crt' -exec chmod 0644 {} +
)
# `secrets-encryption: true`: K3s writes an aescbc key first in server/cred/encryption-config.json and gives the API
# server --encryption-provider-config (server.go: only when EncryptSecrets); without the key K3s stores Secrets in
# plain text (docs.k3s.io security/secrets-encryption; the hardening guide's CIS 1.2.27-1.2.28 item).
encrypt=false
if [ "$(value secrets-encryption)" = true ]; then
  encrypt=true
  if [ ! -f "$cred/encryption-config.json" ]; then
    (umask 077 && printf '{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey","secret":"%s"}]}},{"identity":{}}]}]}\n' \
      "$(head -c 32 /dev/urandom | base64)" >"$cred/encryption-config.json")
  fi
fi

# Kubeconfigs as K3s writes its component ones (deps.go KubeConfig: file references).
kubeconfig_files() { # server ca cert key
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: %s\n    server: %s\n  name: local\n' "$2" "$1"
  printf 'contexts:\n- context:\n    cluster: local\n    namespace: default\n    user: user\n  name: Default\n'
  printf 'current-context: Default\npreferences: {}\nusers:\n- name: user\n  user:\n    client-certificate: %s\n    client-key: %s\n' "$3" "$4"
}
for kc in admin:client-admin controller:client-controller scheduler:client-scheduler api-server:client-kube-apiserver; do
  (umask 077 && kubeconfig_files "https://$address:6443" "$tls/server-ca.crt" "$tls/${kc#*:}.crt" \
    "$tls/${kc#*:}.key" >"$cred/${kc%%:*}.kubeconfig")
done

# ---- etcd: K3s's embedded member (pkg/etcd/etcd.go; its config as pkg/daemons/executor ETCDConfig.ToConfigFile
# writes it, 0600 in a 0700 folder), owned by root as the k3s process is (self-assessment 1.1.12: Not Applicable).
db=$data/server/db/etcd
mkdir -p "$db"
chmod 0700 "$db"
etcd_name="$node-$(printf '%s' "$node" | sha256sum | cut -c1-8)"
[ -f "$db/name" ] || (umask 077 && echo "$etcd_name" >"$db/name")
etcd_name="$(cat "$db/name")"
{
  printf 'advertise-client-urls: https://%s:2379\n' "$address"
  printf 'client-transport-security:\n  cert-file: %s\n  client-cert-auth: true\n  key-file: %s\n  trusted-ca-file: %s\n' \
    "$tls/etcd/server-client.crt" "$tls/etcd/server-client.key" "$tls/etcd/server-ca.crt"
  printf 'data-dir: %s\nelection-timeout: 5000\nheartbeat-interval: 500\n' "$db"
  printf 'initial-advertise-peer-urls: https://%s:2380\ninitial-cluster: %s=https://%s:2380\ninitial-cluster-state: new\n' \
    "$address" "$etcd_name" "$address"
  printf 'listen-client-urls: https://%s:2379\nlisten-peer-urls: https://%s:2380\n' "$address" "$address"
  printf 'log-outputs:\n- stderr\nlogger: zap\nname: %s\n' "$etcd_name"
  printf 'peer-transport-security:\n  cert-file: %s\n  client-cert-auth: true\n  key-file: %s\n  trusted-ca-file: %s\n' \
    "$tls/etcd/peer-server-client.crt" "$tls/etcd/peer-server-client.key" "$tls/etcd/peer-ca.crt"
  printf 'snapshot-count: 10000\n'
  while IFS= read -r arg; do
    [ -n "$arg" ] && printf '%s: %s\n' "${arg%%=*}" "${arg#*=}"
  done <<<"$(items etcd-arg)"
} >"$db/config.tmp"
chmod 0600 "$db/config.tmp"
mv "$db/config.tmp" "$db/config"
supervise etcd "$tools/etcd" --config-file="$db/config"

# ---- kube-apiserver: K3s's defaults (server.go apiServer; the cipher suites pkg/cli/server sets when none is given),
# then config.yaml's kube-apiserver-arg items. K3s sets no audit flag, no admission config and no encryption of its
# own: the hardening guide has the operator add them (docs.k3s.io security/hardening-guide, "API Server audit
# configuration", "Pod Security").
service_cidr="$(value service-cidr)"
argmap=(
  [advertise-address]="$address" [allow-privileged]=true [anonymous-auth]=false
  [api-audiences]="https://kubernetes.default.svc.cluster.local,k3s" [authorization-mode]="Node,RBAC"
  [bind-address]="$address" [cert-dir]="$tls/temporary-certs" [client-ca-file]="$tls/client-ca.crt"
  [enable-admission-plugins]=NodeRestriction [enable-aggregator-routing]=true [enable-bootstrap-token-auth]=true
  [etcd-cafile]="$tls/etcd/server-ca.crt" [etcd-certfile]="$tls/etcd/client.crt" [etcd-keyfile]="$tls/etcd/client.key"
  [etcd-servers]="https://$address:2379" [kubelet-certificate-authority]="$tls/server-ca.crt"
  [kubelet-client-certificate]="$tls/client-kube-apiserver.crt" [kubelet-client-key]="$tls/client-kube-apiserver.key"
  [kubelet-preferred-address-types]="InternalIP,ExternalIP,Hostname" [profiling]=false
  [proxy-client-cert-file]="$tls/client-auth-proxy.crt" [proxy-client-key-file]="$tls/client-auth-proxy.key"
  [requestheader-allowed-names]=system:auth-proxy [requestheader-client-ca-file]="$tls/request-header-ca.crt"
  [requestheader-extra-headers-prefix]=X-Remote-Extra- [requestheader-group-headers]=X-Remote-Group
  [requestheader-username-headers]=X-Remote-User [secure-port]=6443
  [service-account-issuer]=https://kubernetes.default.svc.cluster.local [service-account-key-file]="$tls/service.key"
  [service-account-signing-key-file]="$tls/service.key" [service-cluster-ip-range]="${service_cidr:-10.43.0.0/16}"
  [service-node-port-range]=30000-32767 [storage-backend]=etcd3 [tls-cert-file]="$tls/serving-kube-apiserver.crt"
  [tls-private-key-file]="$tls/serving-kube-apiserver.key"
  [tls-cipher-suites]="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"
)
if [ "$encrypt" = true ]; then
  argmap[encryption-provider-config]="$cred/encryption-config.json"
  argmap[encryption-provider-config-automatic-reload]=true
fi
mapfile -t api_args <<<"$(sorted_args kube-apiserver-arg)"
logged kube-apiserver "${api_args[@]}"
supervise kube-apiserver "$tools/kube-apiserver" "${api_args[@]}"

# HTTPS to the API server with the admin certificate: prints the status code.
api() { # method path
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" "$2" "$address" |
    timeout 15 openssl s_client -quiet -connect "$address:6443" -cert "$tls/client-admin.crt" \
      -key "$tls/client-admin.key" -CAfile "$tls/server-ca.crt" 2>/dev/null | head -n 1 | cut -d' ' -f2 || true
  # (head may close the pipe first; an API server that accepts and never answers costs 15 s, never the whole start)
}
# K3s's unit is Type=notify: `systemctl start k3s` returns once K3s notifies, after its API server answers. The
# controller manager and the scheduler start after it (server.go: executor.ControllerManager waits for APIServerReady).
for _ in $(seq 240); do
  [ "$(api GET /readyz)" = 200 ] && break
  sleep 0.5
done
[ "$(api GET /readyz)" = 200 ] || fatal "kube-apiserver did not become ready within 120s"

# ---- kube-controller-manager: K3s's defaults (server.go controllerManager; its own cloud controller manager runs the
# cloud controllers), then config.yaml's kube-controller-manager-arg items. terminated-pod-gc-threshold is not among
# the defaults: the hardening guide adds it (CIS 1.3.1). Bound to loopback as K3s binds it (CIS 1.3.7, 1.4.2);
# --permit-port-sharing is the stand-in's (K3s does not set it), so that another test host's controller manager on
# this machine (the RKE2 stand-in's, which RKE2 starts with it) can bind 127.0.0.1:10257 too.
cluster_cidr="$(value cluster-cidr)"
argmap=(
  [allocate-node-cidrs]=true [authentication-kubeconfig]="$cred/controller.kubeconfig"
  [authorization-kubeconfig]="$cred/controller.kubeconfig" [bind-address]=127.0.0.1 [permit-port-sharing]=true
  [cluster-cidr]="${cluster_cidr:-10.42.0.0/16}"
  [cluster-signing-kube-apiserver-client-cert-file]="$tls/client-ca.crt"
  [cluster-signing-kube-apiserver-client-key-file]="$tls/client-ca.key"
  [cluster-signing-kubelet-client-cert-file]="$tls/client-ca.crt"
  [cluster-signing-kubelet-client-key-file]="$tls/client-ca.key"
  [cluster-signing-kubelet-serving-cert-file]="$tls/server-ca.crt"
  [cluster-signing-kubelet-serving-key-file]="$tls/server-ca.key"
  [cluster-signing-legacy-unknown-cert-file]="$tls/server-ca.crt"
  [cluster-signing-legacy-unknown-key-file]="$tls/server-ca.key" [configure-cloud-routes]=false
  [controllers]="*,tokencleaner,-service,-route,-cloud-node-lifecycle" [kubeconfig]="$cred/controller.kubeconfig"
  [profiling]=false [root-ca-file]="$tls/server-ca.crt" [secure-port]=10257
  [service-account-private-key-file]="$tls/service.key" [service-cluster-ip-range]="${service_cidr:-10.43.0.0/16}"
  [tls-cert-file]="$tls/kube-controller-manager/kube-controller-manager.crt"
  [tls-private-key-file]="$tls/kube-controller-manager/kube-controller-manager.key"
  [use-service-account-credentials]=true
)
mapfile -t kcm_args <<<"$(sorted_args kube-controller-manager-arg)"
logged kube-controller-manager "${kcm_args[@]}"
supervise kube-controller-manager "$tools/kube-controller-manager" "${kcm_args[@]}"

# ---- kube-scheduler, when the test built it: K3s's defaults (server.go scheduler), then kube-scheduler-arg items.
if [ -x "$tools/kube-scheduler" ]; then
  argmap=(
    [authentication-kubeconfig]="$cred/scheduler.kubeconfig" [authorization-kubeconfig]="$cred/scheduler.kubeconfig"
    [bind-address]=127.0.0.1 [kubeconfig]="$cred/scheduler.kubeconfig" [permit-port-sharing]=true [profiling]=false
    [secure-port]=10259
    [tls-cert-file]="$tls/kube-scheduler/kube-scheduler.crt" [tls-private-key-file]="$tls/kube-scheduler/kube-scheduler.key"
  )
  mapfile -t scheduler_args <<<"$(sorted_args kube-scheduler-arg)"
  logged kube-scheduler "${scheduler_args[@]}"
  supervise kube-scheduler "$tools/kube-scheduler" "${scheduler_args[@]}"
fi

# The admin kubeconfig K3s writes to /etc/rancher/k3s/k3s.yaml (the data embedded; mode from write-kubeconfig-mode,
# 0600 when unset: docs.k3s.io cli/server), for https://127.0.0.1:6443; here the API server listens on the host's
# address only, so that is the address written.
mode="$(value write-kubeconfig-mode)"
(
  umask 077
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://%s:6443\n    certificate-authority-data: %s\n' \
    "$address" "$(base64 -w0 "$tls/server-ca.crt")"
  printf 'users:\n- name: default\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n' \
    "$(base64 -w0 "$tls/client-admin.crt")" "$(base64 -w0 "$tls/client-admin.key")"
  printf 'contexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n'
) >/etc/rancher/k3s/k3s.yaml.tmp
chmod "${mode:-0600}" /etc/rancher/k3s/k3s.yaml.tmp
mv /etc/rancher/k3s/k3s.yaml.tmp /etc/rancher/k3s/k3s.yaml

# The controller manager makes each namespace's default ServiceAccount; wait for it, bounded, as the RKE2 stand-in
# does, so the product's ready step and the test find the cluster as a started K3s leaves it.
for _ in $(seq 240); do
  [ "$(api GET /api/v1/namespaces/kube-system/serviceaccounts/default)" = 200 ] && break
  sleep 0.5
done

# A server runs the agent side too (its kubelet joins it as a node), started once the API server answers.
agent_side
