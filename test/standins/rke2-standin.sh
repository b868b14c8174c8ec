#!/usr/bin/env bash
# STAND-IN for the rke2 binary (the real one cannot run here). It does what matters at start: under a CIS profile it
# refuses to start when a kernel parameter or (on servers) the etcd user or group is wrong, in RKE2's own wording;
# it reads config.yaml and the token file; then it writes the node token, the admin kubeconfig (servers) and the
# kubelet kubeconfig, and logs the start with its join target so join order can be checked.
#
# When the test has put the real binaries in /opt/standin-control-plane/bin (built from Go modules by
# e2e/toolchain/build.sh), it goes further, following RKE2's sources (rancher/rke2 at v1.33.5+rke2r1; k3s-io/k3s):
# - on a server with the control-plane binaries: RKE2's certificates, kubeconfigs, static pod manifests and the real
#   kube-apiserver, kube-controller-manager and kube-scheduler with the command lines RKE2 gives them (below, with the
#   source of each part), and an etcd member (TLS, its config file, as the etcd user under the CIS profile);
# - on every node with kubectl there: kubectl where RKE2 puts it, the kubelet's files, and STAND-IN kubelet and
#   kube-proxy processes (kubelet-standin.sh runs no containers: it registers the Node at this release's version and
#   renews its lease; the kube-proxy one does nothing) started with the command lines RKE2 would use;
# - a STAND-IN process table: the root has no procfs, so each process started is listed in the root's /proc.
# What differs from RKE2, because the test hosts share one network namespace (loopback addresses 127.0.1.N, given by
# /etc/standin-host-address): etcd, the API servers and the kubeconfigs use the host's address instead of
# 127.0.0.1/0.0.0.0; joining nodes fetch their files from the first server's supervisor port through a STAND-IN
# (openssl s_server serving a folder named by the token's hash), agents the CA and the ADMIN credentials (RKE2 gives
# each node its own).
set -euo pipefail

# The release this stand-in was built as (helpers/standin-root.ts writeStandinRelease replaces this line).
version=v1.33.5+rke2r1
if [ "${1:-}" = --version ]; then
  printf 'rke2 version %s (STAND-IN)\n' "$version"
  exit 0
fi

role="${1:-}"
config=/etc/rancher/rke2/config.yaml
value() { sed -n "s/^$1: *//p" "$config" | head -n 1 | tr -d '"'; }
# The items of a top-level YAML list, one per line (config.yaml as this product renders it).
items() { sed -n "/^$1:\$/,/^[^ ]/s/^  - //p" "$config" | tr -d '"'; }

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
data=/var/lib/rancher/rke2
mkdir -p "$data/agent" "$data/server"
echo "$(date +%s) start $role node=$node server=${server:-<bootstrap>}" >>/var/log/rke2-standin.log
if [ "$role" = server ]; then
  (umask 077 && printf 'K10standin::server:%s\n' "$(sha256sum "$token_file" | cut -c1-16)" >"$data/server/token")
  (umask 077 && printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://127.0.0.1:6443\n' >/etc/rancher/rke2/rke2.yaml)
fi
(umask 077 && printf 'apiVersion: v1\nkind: Config\n' >"$data/agent/kubelet.kubeconfig")

tools=/opt/standin-control-plane/bin
# A server runs a control plane when the test put the binaries there; a node with kubectl there gets the kubelet.
control_plane=false
if [ "$role" = server ] && [ -x "$tools/kube-apiserver" ]; then control_plane=true; fi
if [ "$control_plane" = false ] && [ ! -x "$tools/kubectl" ]; then exit 0; fi
first_server=false
if [ -z "$server" ]; then first_server=true; fi

address="$(cat /etc/standin-host-address)"
tls=$data/server/tls
cred=$data/server/cred
agent=$data/agent
run=/run/standin/control-plane
mkdir -p "$run"
# STAND-IN process table: a test root has no procfs (its /proc is a folder, so /proc/sys stays a stand-in), so the
# checks that read /proc/<pid>/cmdline inside the root, as `ps` would, find each process this stand-in starts there:
# its real pid, its argv (`argv_as` when the process renames itself, else the command). Removed when it ends.
#
# Every process runs under a loop of its own (its session leader, pid in $run/<name>.loop) that records the process
# for the table and waits for it. When it exits, the loop starts it again for RKE2's static pods (etcd and the control
# plane: the kubelet restarts a static pod that exits; the controller manager and the scheduler exit when they lose
# their leader lease, as while a joining server's etcd member catches up, and a joining API server can give up on its
# new etcd member with "Error creating leases: context deadline exceeded"), after a second (the kubelet backs off from
# 10 s; a second keeps the test short); for the other processes it clears the records and ends. Only loops are ever
# signalled: a loop stops its process and reaps it before it ends, whereas a pid recorded for a process that has
# already exited may by then belong to any process on this machine (pids wrap at 32768 here, and the test hosts share
# one pid namespace).
argv_as=()
supervise() { # always|never pidname command args...: output to /var/log/standin-<name>.log
  local restart="$1" name="$2"
  shift 2
  local shown=("$@")
  if [ "${#argv_as[@]}" -gt 0 ]; then shown=("${argv_as[@]}"); fi
  argv_as=()
  # shellcheck disable=SC2016 # the loop's variables are its own
  setsid bash -c '
    restart=$1 name=$2 run=$3 n=$4
    shift 4
    shown=("${@:1:n}")
    shift "$n"
    pid=
    stop() {
      trap "" TERM
      if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rm -rf "/proc/$pid"
      fi
      rm -f "$run/$name.pid" "$run/$name.loop"
      exit 0
    }
    trap stop TERM
    while :; do
      "$@" </dev/null >>"/var/log/standin-$name.log" 2>&1 &
      pid=$!
      echo "$pid" >"$run/$name.pid"
      mkdir -p "/proc/$pid"
      printf "%s\0" "${shown[@]}" >"/proc/$pid/cmdline"
      status=0
      wait "$pid" || status=$?
      rm -rf "/proc/$pid"
      pid=
      [ "$restart" = always ] || break
      echo "STAND-IN: $name exited ($status); started again, as the kubelet restarts a static pod" >>"/var/log/standin-$name.log"
      sleep 1
    done
    rm -f "$run/$name.pid" "$run/$name.loop"' supervise "$restart" "$name" "$run" "${#shown[@]}" "${shown[@]}" "$@" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$run/$name.loop"
}
daemon() { supervise never "$@"; }
static_pod() { supervise always "$@"; }

# A restart (a changed config.yaml, a new release) stops what the previous start began first, as systemd would.
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

# k3s's util.GetArgs (called by pkg/daemons/control/server.go): the defaults as a map, each `<component>-arg` item of
# config.yaml replacing the default of its key (a bare key means "true"), then every flag sorted by name. RKE2
# prepends its own flags to that list (pkg/executor/staticpod/staticpod.go), so a flag set both ways appears twice
# and the process takes the last one.
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

# A static pod manifest as RKE2 writes it (pkg/podtemplate/podtemplate.go Pod: the component is the command, the flags
# its args), 0600 under a CIS profile and 0644 otherwise (staticpod.go writeTemplate), in a 0700 folder (writeFile).
manifests=$agent/pod-manifests
manifest() { # name args...
  local name="$1" a
  shift
  mkdir -p "$manifests"
  chmod 0700 "$manifests"
  {
    printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: kube-system\n  labels:\n' "$name"
    printf '    component: %s\n    tier: control-plane\nspec:\n  hostNetwork: true\n  containers:\n' "$name"
    printf '  - name: %s\n    command:\n    - %s\n    args:\n' "$name" "$name"
    for a in "$@"; do printf '    - "%s"\n' "$a"; done
  } >"$manifests/$name.yaml.tmp"
  if [ -n "$profile" ]; then chmod 0600 "$manifests/$name.yaml.tmp"; else chmod 0644 "$manifests/$name.yaml.tmp"; fi
  mv "$manifests/$name.yaml.tmp" "$manifests/$name.yaml"
}

# A kubeconfig as k3s writes its component ones (pkg/daemons/control/deps/deps.go KubeConfig: file references).
kubeconfig_files() { # server ca cert key
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: %s\n    server: %s\n  name: local\n' "$2" "$1"
  printf 'contexts:\n- context:\n    cluster: local\n    namespace: default\n    user: user\n  name: Default\n'
  printf 'current-context: Default\npreferences: {}\nusers:\n- name: user\n  user:\n    client-certificate: %s\n    client-key: %s\n' "$3" "$4"
}
# The admin kubeconfig RKE2 writes to /etc/rancher/rke2/rke2.yaml (the data embedded, so it can be copied off).
kubeconfig_data() { # server ca cert key
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n' \
    "$1" "$(base64 -w0 "$2")"
  printf 'users:\n- name: default\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n' \
    "$(base64 -w0 "$3")" "$(base64 -w0 "$4")"
  printf 'contexts:\n- name: default\n  context: {cluster: default, user: default}\ncurrent-context: default\n'
}

# HTTPS to the API server with the admin certificate: prints the status code.
api() { # method path [body] [content type]
  local body="${3:-}"
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Type: %s\r\nContent-Length: %s\r\n\r\n%s' \
    "$1" "$2" "$address" "${4:-application/json}" "${#body}" "$body" |
    timeout 15 openssl s_client -quiet -connect "$address:6443" -cert "$tls/client-admin.crt" \
      -key "$tls/client-admin.key" -CAfile "$tls/server-ca.crt" 2>/dev/null | head -n 1 | cut -d' ' -f2 || true
  # (head may close the pipe first; an API server that accepts and never answers costs 15 s, never the whole start)
}

# The files a joining server gets from the first one: RKE2's bootstrap data (k3s pkg/bootstrap: the CAs with their
# keys, the service account keys, the encryption config) plus the client certificates this stand-in shares. An agent
# gets the CA certificates and (a stand-in simplification) the admin client certificate.
served_files=(tls/server-ca.crt tls/server-ca.key tls/server-ca.nochain.crt tls/client-ca.crt tls/client-ca.key
  tls/client-ca.nochain.crt tls/request-header-ca.crt tls/request-header-ca.key tls/client-admin.crt
  tls/client-admin.key tls/client-kube-apiserver.crt tls/client-kube-apiserver.key tls/client-controller.crt
  tls/client-controller.key tls/client-scheduler.crt tls/client-scheduler.key tls/client-auth-proxy.crt
  tls/client-auth-proxy.key tls/service.key tls/service.current.key tls/etcd/server-ca.crt tls/etcd/server-ca.key
  tls/etcd/peer-ca.crt tls/etcd/peer-ca.key tls/etcd/client.crt tls/etcd/client.key cred/encryption-config.json)
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

if [ "$first_server" = false ]; then
  # A joining node: the files above from the first server's supervisor (the stand-in below), for the token's hash.
  join="${server#https://}"
  join_host="${join%%:*}"
  path="/$(tr -d '\n' <"$token_file" | sha256sum | cut -c1-64)"
  fetched=/run/standin/join
  mkdir -p "$fetched"
  chmod 0700 "$fetched"
  fetch() { # file destination: non-zero when the server did not answer with the file
    printf 'GET %s/%s HTTP/1.0\r\n\r\n' "$path" "$1" |
      timeout 30 openssl s_client -quiet -connect "$join_host:9345" 2>/dev/null | sed '1,/^\r\{0,1\}$/d' >"$2.tmp"
    [ -s "$2.tmp" ] && [ "$(head -c 13 "$2.tmp")" != "Error opening" ] && mv "$2.tmp" "$2"
  }
  if [ "$control_plane" = true ]; then
    wanted=("${served_files[@]}")
    mkdir -p "$tls/etcd" "$cred"
  else
    wanted=(tls/server-ca.crt tls/client-ca.crt tls/client-admin.crt tls/client-admin.key)
  fi
  for _ in $(seq 60); do
    got=true
    for f in "${wanted[@]}"; do
      if [ "$control_plane" = true ]; then dest="$data/server/$f"; else dest="$fetched/${f#tls/}"; fi
      (umask 077 && fetch "$f" "$dest") || got=false
      [ "$got" = true ] || break
    done
    [ "$got" = true ] && break
    echo "level=info msg=\"Waiting to retrieve agent configuration; server is not ready\"" >&2
    sleep 1
  done
  [ "$got" = true ] || fatal "failed to get CA certs from $server"
  join_api="https://$join_host:6443"
fi

if [ "$control_plane" = true ]; then
  # ---- certificates: k3s pkg/daemons/control/deps/deps.go (genServerCerts, genClientCerts, genETCDCerts) names and
  # signs them; files under server/tls are .crt 0644 and .key 0600 (kube-bench rke2-cis-1.12 1.1.20, 1.1.21).
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
    # k3s makes these folders 0700. RKE2's etcd (the etcd user under a profile) gets its files mounted into its
    # container; the stand-in's etcd opens them through the folders, which get the search bit for others instead.
    chmod 0700 "$cred"
    chmod 0711 "$tls" "$tls/etcd"
    if [ "$first_server" = true ] && [ ! -f "$tls/client-admin.crt" ]; then
      ca server-ca "rke2-server-ca@standin"
      ca client-ca "rke2-client-ca@standin"
      ca request-header-ca "rke2-request-header-ca@standin"
      ca etcd/server-ca "etcd-server-ca@standin"
      ca etcd/peer-ca "etcd-peer-ca@standin"
      cp "$tls/server-ca.crt" "$tls/server-ca.nochain.crt"
      cp "$tls/client-ca.crt" "$tls/client-ca.nochain.crt"
      leaf client-admin client-ca /O=system:masters/CN=system:admin "$client"
      leaf client-kube-apiserver client-ca /O=system:masters/CN=system:kube-apiserver "$client"
      leaf client-controller client-ca /CN=system:kube-controller-manager "$client"
      leaf client-scheduler client-ca /CN=system:kube-scheduler "$client"
      leaf client-auth-proxy request-header-ca /CN=system:auth-proxy "$client"
      leaf etcd/client etcd/server-ca /CN=etcd-client "$client"
      # An RSA key in PEM, as k3s writes it (pkg/daemons/control/deps genServiceAccount, certutil.NewPrivateKey): the
      # API server reads service.key as a public key list (client-go util/keyutil ParsePublicKeysPEM), which takes an
      # RSA key in PKCS#1 or PKCS#8 and an EC key only in SEC1 form, not openssl's default PKCS#8 EC.
      ssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tls/service.current.key"
      cp "$tls/service.current.key" "$tls/service.key"
      # RKE2 always encrypts Secrets (pkg/rke2/rke2.go Server sets secrets-encryption); k3s writes aescbc first
      # (pkg/secretsencrypt) to server/cred/encryption-config.json.
      printf '{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey","secret":"%s"}]}},{"identity":{}}]}]}\n' \
        "$(head -c 32 /dev/urandom | base64)" >"$cred/encryption-config.json"
    fi
    # Each server's own serving certificates.
    if [ ! -f "$tls/serving-kube-apiserver.crt" ]; then
      leaf serving-kube-apiserver server-ca /CN=kube-apiserver "$serving"
      leaf kube-controller-manager/kube-controller-manager server-ca /CN=kube-controller-manager "$serving"
      leaf kube-scheduler/kube-scheduler server-ca /CN=kube-scheduler "$serving"
      leaf etcd/server-client etcd/server-ca /CN=etcd-server "$both"
      leaf etcd/peer-server-client etcd/peer-ca /CN=etcd-peer "$both"
    fi
    find "$tls" -name '*.crt' -exec chmod 0644 {} +
  )
  for kc in admin:client-admin controller:client-controller scheduler:client-scheduler api-server:client-kube-apiserver; do
    (umask 077 && kubeconfig_files "https://$address:6443" "$tls/server-ca.crt" "$tls/${kc#*:}.crt" \
      "$tls/${kc#*:}.key" >"$cred/${kc%%:*}.kubeconfig")
  done

  # ---- etcd, a member on every server: k3s pkg/daemons/executor/etcd.go ETCDConfig.ToConfigFile writes its config to
  # <data-dir>/config (0600, folder 0700); RKE2 starts etcd with only --config-file (staticpod.go ETCD) and, under a
  # profile, as the etcd user, after chowning the data dir and its certificates (same function). Key names: k3s
  # pkg/etcd/etcd.go. A joining server adds itself as a member through the first server's etcd (k3s pkg/etcd join;
  # k3s adds a learner and promotes it, the stand-in adds a voting member).
  db=$data/server/db/etcd
  mkdir -p "$db"
  chmod 0700 "$db"
  etcd_name="$node-$(printf '%s' "$node" | sha256sum | cut -c1-8)"
  [ -f "$db/name" ] || (umask 077 && echo "$etcd_name" >"$db/name")
  etcd_name="$(cat "$db/name")"
  own_peer="https://$address:2380"
  initial_cluster="$etcd_name=$own_peer"
  initial_state=new
  if [ "$first_server" = false ]; then
    initial_state=existing
    if [ -d "$db/member" ]; then
      initial_cluster="$(sed -n 's/^initial-cluster: //p' "$db/config" 2>/dev/null)"
    else
      etcd_api() { # path json: the response body (HTTP/1.0: not chunked)
        printf 'POST %s HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' "$1" "${#2}" "$2" |
          timeout 15 openssl s_client -quiet -connect "$join_host:2379" -cert "$tls/etcd/client.crt" \
            -key "$tls/etcd/client.key" -CAfile "$tls/etcd/server-ca.crt" 2>/dev/null | sed '1,/^\r\{0,1\}$/d' || true
      }
      members="$(etcd_api /v3/cluster/member/list '{}')"
      if ! grep -q "\"$own_peer\"" <<<"$members"; then
        members="$(etcd_api /v3/cluster/member/add "{\"peerURLs\":[\"$own_peer\"]}")"
      fi
      grep -q "\"$own_peer\"" <<<"$members" || fatal "failed to join etcd cluster through $join_host: $members"
      initial_cluster=""
      while IFS= read -r m; do
        peer="$(sed -n 's/.*"peerURLs":\["\([^"]*\)".*/\1/p' <<<"$m")"
        [ -n "$peer" ] || continue
        name="$(sed -n 's/.*"name":"\([^"]*\)".*/\1/p' <<<"$m")"
        if [ "$peer" = "$own_peer" ]; then name="$etcd_name"; fi
        initial_cluster="${initial_cluster:+$initial_cluster,}$name=$peer"
      done <<<"$(sed 's/.*"members":\[//; s/\]}[[:space:]]*$//; s/},{/}\n{/g' <<<"$members")"
    fi
  fi
  {
    printf 'advertise-client-urls: https://%s:2379\n' "$address"
    printf 'client-transport-security:\n  cert-file: %s\n  client-cert-auth: true\n  key-file: %s\n  trusted-ca-file: %s\n' \
      "$tls/etcd/server-client.crt" "$tls/etcd/server-client.key" "$tls/etcd/server-ca.crt"
    printf 'data-dir: %s\nelection-timeout: 5000\nheartbeat-interval: 500\n' "$db"
    printf 'initial-advertise-peer-urls: %s\ninitial-cluster: %s\ninitial-cluster-state: %s\n' \
      "$own_peer" "$initial_cluster" "$initial_state"
    printf 'listen-client-urls: https://%s:2379\nlisten-peer-urls: https://%s:2380\n' "$address" "$address"
    printf 'log-outputs:\n- stderr\nlogger: zap\nname: %s\n' "$etcd_name"
    printf 'peer-transport-security:\n  cert-file: %s\n  client-cert-auth: true\n  key-file: %s\n  trusted-ca-file: %s\n' \
      "$tls/etcd/peer-server-client.crt" "$tls/etcd/peer-server-client.key" "$tls/etcd/peer-ca.crt"
    printf 'snapshot-count: 10000\n'
    # etcd-arg items of config.yaml are written into the file (ToConfigFile's extraArgs).
    while IFS= read -r arg; do
      [ -n "$arg" ] && printf '%s: %s\n' "${arg%%=*}" "${arg#*=}"
    done <<<"$(items etcd-arg)"
  } >"$db/config.tmp"
  chmod 0600 "$db/config.tmp"
  mv "$db/config.tmp" "$db/config"
  etcd_run=()
  if [ -n "$profile" ]; then
    # The search bit on the folders above the data dir (a `mkdir -p` under umask 077, as the files step's, makes them
    # 0700): RKE2's etcd container gets the data dir mounted, the stand-in's etcd user walks the host's path to it.
    chmod o+x /var/lib/rancher "$data" "$data/server" "$data/server/db"
    chown -R etcd:etcd "$db"
    chown etcd:etcd "$tls"/etcd/{server-client,peer-server-client}.{crt,key} "$tls"/etcd/{server-ca,peer-ca}.crt
    etcd_run=(setpriv --reuid=etcd --regid=etcd --clear-groups)
  fi
  manifest etcd --config-file="$db/config"
  argv_as=("$tools/etcd" --config-file="$db/config")
  static_pod etcd "${etcd_run[@]}" "$tools/etcd" --config-file="$db/config"
  # RKE2's API server uses its own server's etcd member (https://127.0.0.1:2379).
  etcd_servers="https://$address:2379"

  # ---- kube-apiserver: k3s pkg/daemons/control/server.go apiServer (the sorted defaults) with RKE2's prepends from
  # staticpod.go APIServer (PSA config, audit flags under the CIS profile, service-account-extend-token-expiration)
  # and pkg/cli/defaults/defaults.go (enable-admission-plugins=NodeRestriction); the cipher suites are the ones k3s
  # pkg/cli/server/server.go sets when none is given. Not set here: the egress selector (no agent tunnel here).
  service_cidr="$(value service-cidr)"
  argmap=(
    [advertise-address]="$address" [allow-privileged]=true [anonymous-auth]=false
    [api-audiences]="https://kubernetes.default.svc.cluster.local,rke2" [authorization-mode]="Node,RBAC"
    [bind-address]="$address" [cert-dir]="$tls/temporary-certs" [client-ca-file]="$tls/client-ca.crt"
    [enable-admission-plugins]=NodeRestriction [enable-bootstrap-token-auth]=true
    [encryption-provider-config]="$cred/encryption-config.json" [encryption-provider-config-automatic-reload]=true
    [etcd-cafile]="$tls/etcd/server-ca.crt" [etcd-certfile]="$tls/etcd/client.crt"
    [etcd-keyfile]="$tls/etcd/client.key" [etcd-servers]="$etcd_servers"
    [kubelet-certificate-authority]="$tls/server-ca.crt" [kubelet-client-certificate]="$tls/client-kube-apiserver.crt"
    [kubelet-client-key]="$tls/client-kube-apiserver.key" [kubelet-preferred-address-types]="InternalIP,ExternalIP,Hostname"
    [profiling]=false [proxy-client-cert-file]="$tls/client-auth-proxy.crt"
    [proxy-client-key-file]="$tls/client-auth-proxy.key" [requestheader-allowed-names]=system:auth-proxy
    [requestheader-client-ca-file]="$tls/request-header-ca.crt" [requestheader-extra-headers-prefix]=X-Remote-Extra-
    [requestheader-group-headers]=X-Remote-Group [requestheader-username-headers]=X-Remote-User [secure-port]=6443
    [service-account-issuer]=https://kubernetes.default.svc.cluster.local
    [service-account-key-file]="$tls/service.key" [service-account-signing-key-file]="$tls/service.current.key"
    [service-cluster-ip-range]="${service_cidr:-10.43.0.0/16}" [service-node-port-range]=30000-32767
    [storage-backend]=etcd3 [tls-cert-file]="$tls/serving-kube-apiserver.crt"
    [tls-private-key-file]="$tls/serving-kube-apiserver.key"
    [tls-cipher-suites]="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"
  )
  mapfile -t k3s_args <<<"$(sorted_args kube-apiserver-arg)"
  psa="$(value pod-security-admission-config-file)"
  audit_policy="$(value audit-policy-file)"
  if [ "$profile" = cis ] && [ -z "$audit_policy" ]; then
    audit_policy=/etc/rancher/rke2/audit-policy.yaml # podtemplate.DefaultAuditPolicyFile
    [ -f "$audit_policy" ] || (umask 077 && printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n' >"$audit_policy")
  fi
  if [ -z "$psa" ]; then
    # pkg/rke2/psa.go setPSAs: without a file of the user's, RKE2 writes its own (0600), restricted under CIS.
    psa=/etc/rancher/rke2/rke2-pss.yaml
    level=privileged
    if [ "$profile" = cis ]; then level=restricted; fi
    (umask 077 && printf 'apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1beta1
    kind: PodSecurityConfiguration
    defaults:
      enforce: "%s"
      enforce-version: "latest"
    exemptions:
      namespaces: [kube-system]
' "$level" >"$psa")
  fi
  api_args=(--admission-control-config-file="$psa")
  if [ -n "$audit_policy" ]; then
    api_args+=(--audit-policy-file="$audit_policy" --audit-log-maxage=30 --audit-log-maxbackup=10 --audit-log-maxsize=100)
    audit_log="$(printf '%s\n' "${k3s_args[@]}" | sed -n 's/^--audit-log-path=//p')"
    if [ -z "$audit_log" ]; then
      audit_log=$data/server/logs/audit.log
      api_args+=(--audit-log-path="$audit_log")
    fi
    mkdir -p "$(dirname "$audit_log")"
  fi
  if [ "$profile" = cis ]; then api_args+=(--service-account-extend-token-expiration=false); fi
  api_args+=("${k3s_args[@]}")
  manifest kube-apiserver "${api_args[@]}"
  static_pod kube-apiserver "$tools/kube-apiserver" "${api_args[@]}"

  # ---- kube-controller-manager and kube-scheduler: k3s server.go controllerManager / scheduler (sorted defaults,
  # bound to loopback), with RKE2's prepends from staticpod.go (--permit-port-sharing=true; the controller manager's
  # volume plugin dir and terminated-pod-gc-threshold=1000). Port sharing also lets two test hosts both bind
  # 127.0.0.1:10257/10259.
  cluster_cidr="$(value cluster-cidr)"
  argmap=(
    [allocate-node-cidrs]=true [authentication-kubeconfig]="$cred/controller.kubeconfig"
    [authorization-kubeconfig]="$cred/controller.kubeconfig" [bind-address]=127.0.0.1
    [cluster-cidr]="${cluster_cidr:-10.42.0.0/16}"
    [cluster-signing-kube-apiserver-client-cert-file]="$tls/client-ca.nochain.crt"
    [cluster-signing-kube-apiserver-client-key-file]="$tls/client-ca.key"
    [cluster-signing-kubelet-client-cert-file]="$tls/client-ca.nochain.crt"
    [cluster-signing-kubelet-client-key-file]="$tls/client-ca.key"
    [cluster-signing-kubelet-serving-cert-file]="$tls/server-ca.nochain.crt"
    [cluster-signing-kubelet-serving-key-file]="$tls/server-ca.key"
    [cluster-signing-legacy-unknown-cert-file]="$tls/server-ca.nochain.crt"
    [cluster-signing-legacy-unknown-key-file]="$tls/server-ca.key" [configure-cloud-routes]=false
    [controllers]="*,tokencleaner,-service,-route,-cloud-node-lifecycle" [kubeconfig]="$cred/controller.kubeconfig"
    [profiling]=false [root-ca-file]="$tls/server-ca.crt" [secure-port]=10257
    [service-account-private-key-file]="$tls/service.current.key"
    [service-cluster-ip-range]="${service_cidr:-10.43.0.0/16}"
    [tls-cert-file]="$tls/kube-controller-manager/kube-controller-manager.crt"
    [tls-private-key-file]="$tls/kube-controller-manager/kube-controller-manager.key"
    [use-service-account-credentials]=true
  )
  mapfile -t k3s_args <<<"$(sorted_args kube-controller-manager-arg)"
  kcm_args=(--permit-port-sharing=true --flex-volume-plugin-dir=/var/lib/kubelet/volumeplugins
    --terminated-pod-gc-threshold=1000 "${k3s_args[@]}")
  manifest kube-controller-manager "${kcm_args[@]}"

  argmap=(
    [authentication-kubeconfig]="$cred/scheduler.kubeconfig" [authorization-kubeconfig]="$cred/scheduler.kubeconfig"
    [bind-address]=127.0.0.1 [kubeconfig]="$cred/scheduler.kubeconfig" [profiling]=false [secure-port]=10259
    [tls-cert-file]="$tls/kube-scheduler/kube-scheduler.crt" [tls-private-key-file]="$tls/kube-scheduler/kube-scheduler.key"
  )
  mapfile -t k3s_args <<<"$(sorted_args kube-scheduler-arg)"
  scheduler_args=(--permit-port-sharing=true "${k3s_args[@]}")
  manifest kube-scheduler "${scheduler_args[@]}"

  # RKE2 writes the admin kubeconfig for https://127.0.0.1:6443; the product reads it back and rewrites the address.
  # Here the API server listens on the host's address only, so that is the address written (kubectl on the host works).
  (umask 077 && kubeconfig_data "https://$address:6443" "$tls/server-ca.crt" "$tls/client-admin.crt" \
    "$tls/client-admin.key" >/etc/rancher/rke2/rke2.yaml)

  # `systemctl start rke2-server` returns once the server is up (the unit is Type=notify; RKE2 notifies when its API
  # server answers), so the stand-in waits, bounded, for /readyz before starting the controller manager and the
  # scheduler (staticpod.go starts them after the API server), then for the default ServiceAccount.
  for _ in $(seq 240); do
    [ "$(api GET /readyz)" = 200 ] && break
    sleep 0.5
  done
  [ "$(api GET /readyz)" = 200 ] || fatal "kube-apiserver did not become ready within 120s"
  static_pod kube-controller-manager "$tools/kube-controller-manager" "${kcm_args[@]}"
  if [ -x "$tools/kube-scheduler" ]; then static_pod kube-scheduler "$tools/kube-scheduler" "${scheduler_args[@]}"; fi
  for _ in $(seq 240); do
    [ "$(api GET /api/v1/namespaces/kube-system/serviceaccounts/default)" = 200 ] && break
    sleep 0.5
  done

  if [ "$first_server" = true ]; then
    # What RKE2 applies itself under the CIS profile (rke2 pkg/rke2/np.go): its default-network-policy in
    # kube-system, kube-public and default, which the product's objects must leave alone.
    for ns in kube-system kube-public default; do
      status="$(api POST "/apis/networking.k8s.io/v1/namespaces/$ns/networkpolicies" \
        '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-network-policy"},"spec":{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{}}]}]}}')"
      case "$status" in 201 | 409) ;; *) fatal "creating default-network-policy in $ns answered $status" ;; esac
    done

    # STAND-IN for the supervisor's join endpoints (port 9345): RKE2 hands a joining node its bootstrap data once
    # it shows the cluster token. openssl s_server -WWW serves files and checks nothing, so the files sit in a
    # folder named by the token's hash: only a holder of the token can name them.
    supervisor=$data/server/standin-supervisor
    served="$supervisor/$(tr -d '\n' <"$token_file" | sha256sum | cut -c1-64)"
    (
      umask 077
      rm -rf "$supervisor"
      mkdir -p "$served/tls/etcd" "$served/cred"
      for f in "${served_files[@]}"; do cp "$data/server/$f" "$served/$f"; done
    )
    (cd "$supervisor" && daemon supervisor openssl s_server -quiet -WWW -accept "$address:9345" \
      -cert "$tls/serving-kube-apiserver.crt" -key "$tls/serving-kube-apiserver.key")
  fi
  ca_src="$tls"
  creds_src="$tls"
else
  ca_src="$fetched"
  creds_src="$fetched"
  if [ "$role" = server ]; then
    (umask 077 && kubeconfig_data "$join_api" "$ca_src/server-ca.crt" "$creds_src/client-admin.crt" \
      "$creds_src/client-admin.key" >/etc/rancher/rke2/rke2.yaml)
  fi
fi
# The kubelet talks to its own server's API server, an agent to the one it joined (RKE2's agent load balancer).
api_url="https://$address:6443"
if [ "$control_plane" = false ]; then api_url="$join_api"; fi

# ---- every node: kubectl where RKE2 puts it, the kubelet's files, the kubelet.
# RKE2 extracts its binaries per release into data/<release>/bin and points data/bin at it (k3s pkg/agent/config
# binDir; the `bin` symlink), so a new release switches what `kubectl` runs.
bin="$data/data/${version//+/-}-standin/bin"
mkdir -p "$bin"
if [ -x "$tools/kubectl" ]; then ln -sfn "$tools/kubectl" "$bin/kubectl"; fi
# The STAND-IN kubelet: bash under the name `kubelet` (so `ps -C kubelet`, as kube-bench reads processes, finds it)
# running kubelet-standin.sh, shipped in this release next to the rke2 stand-in.
ln -sfn /usr/bin/bash "$bin/kubelet"
sed "s/^version=.*/version=$version/" /usr/local/share/rke2/kubelet-standin.sh >"$bin/kubelet-standin.sh"
chmod 0755 "$bin/kubelet-standin.sh"
ln -sfn "data/${version//+/-}-standin/bin" "$data/bin.tmp"
mv -T "$data/bin.tmp" "$data/bin"

# The kubelet's files as k3s writes them (pkg/agent/config): CA and client credentials 0600, the kubelet
# kubeconfig 0600 (kube-bench rke2-cis-1.12 4.1.5-4.1.8 read these paths), the kubelet config drop-in in
# agent/etc/kubelet.conf.d (its `kubelet.confs` path there). The kubelet's client credentials here are the admin ones
# the supervisor stand-in handed out (RKE2 issues a node certificate, system:node:<name>).
(
  umask 077
  mkdir -p "$agent/etc/kubelet.conf.d" "$agent/logs"
  cp "$ca_src/server-ca.crt" "$agent/server-ca.crt"
  cp "$ca_src/client-ca.crt" "$agent/client-ca.crt"
  cp "$creds_src/client-admin.crt" "$agent/client-standin-admin.crt"
  cp "$creds_src/client-admin.key" "$agent/client-standin-admin.key"
  if [ ! -f "$agent/serving-kubelet.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=$node" \
      -addext "subjectAltName=IP:$address,DNS:$node" -keyout "$agent/serving-kubelet.key" \
      -out "$agent/serving-kubelet.crt" 2>/dev/null
  fi
  for kc in kubelet kubeproxy rke2controller; do
    kubeconfig_files "$api_url" "$agent/server-ca.crt" "$agent/client-standin-admin.crt" \
      "$agent/client-standin-admin.key" >"$agent/$kc.kubeconfig"
  done
  # The kubelet config drop-in k3s writes from its kubelet defaults (k3s pkg/daemons/agent; its v1.33 source was not
  # readable here, so the settings are those the rke2-cis-1.12 node checks read, valued as RKE2 sets them, and a few
  # defaults). RKE2's CIS profile turns on protect-kernel-defaults (the product's config.yaml sets it too).
  {
    printf 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\naddress: 0.0.0.0\n'
    printf 'authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 2m0s\n    enabled: true\n'
    printf '  x509:\n    clientCAFile: %s\n' "$agent/client-ca.crt"
    printf 'authorization:\n  mode: Webhook\n  webhook:\n    cacheAuthorizedTTL: 5m0s\n    cacheUnauthorizedTTL: 30s\n'
    printf 'cgroupDriver: systemd\nclusterDNS:\n- 10.43.0.10\nclusterDomain: cluster.local\n'
    printf 'containerRuntimeEndpoint: unix:///run/k3s/containerd/containerd.sock\n'
    printf 'evictionHard:\n  imagefs.available: 5%%\n  nodefs.available: 5%%\n'
    printf 'evictionMinimumReclaim:\n  imagefs.available: 10%%\n  nodefs.available: 10%%\n'
    printf 'failSwapOn: false\nhealthzBindAddress: 127.0.0.1\n'
    if [ "$(value protect-kernel-defaults)" = true ] || [ -n "$profile" ]; then printf 'protectKernelDefaults: true\n'; fi
    printf 'readOnlyPort: 0\nserializeImagePulls: false\nstaticPodPath: %s\n' "$manifests"
    printf 'tlsCertFile: %s\ntlsPrivateKeyFile: %s\n' "$agent/serving-kubelet.crt" "$agent/serving-kubelet.key"
  } >"$agent/etc/kubelet.conf.d/00-rke2-defaults.conf"
)

# The kubelet's command line: RKE2's staticpod.go Kubelet (its three flags first), then k3s's kubelet args with RKE2's
# default kubelet-arg items (pkg/cli/defaults/defaults.go: the log flags) and config.yaml's kubelet-arg items, sorted
# by k3s's GetArgs (the last value of a flag wins).
labels="$(items node-label | tr '\n' , | sed 's/,$//')"
argmap=(
  [alsologtostderr]=false [config-dir]="$agent/etc/kubelet.conf.d" [containerd]=/run/k3s/containerd/containerd.sock
  [hostname-override]="$node" [kubeconfig]="$agent/kubelet.kubeconfig" [log-file]="$agent/logs/kubelet.log"
  [log-file-max-size]=50 [logtostderr]=false [node-ip]="$address" [node-labels]="$labels" [stderrthreshold]=FATAL
)
mapfile -t k3s_args <<<"$(sorted_args kubelet-arg)"
kubelet_args=(--volume-plugin-dir=/var/lib/kubelet/volumeplugins --file-check-frequency=5s --sync-frequency=30s
  "${k3s_args[@]}")
# RKE2 runs `kubelet` from the release's bin folder (exec.Command: argv[0] is "kubelet").
role_labels=""
if [ "$role" = server ]; then role_labels=control-plane,etcd,master; fi
argv_as=(kubelet "$bin/kubelet-standin.sh" "${kubelet_args[@]}")
# shellcheck disable=SC2016 # "$0" and "$@" are the inner bash's
STANDIN_ROLES="$role_labels" daemon kubelet bash -c 'exec -a kubelet "$0" "$@"' "$bin/kubelet" \
  "$bin/kubelet-standin.sh" "${kubelet_args[@]}"

# kube-proxy: RKE2 runs it as a static pod on every node (staticpod.go KubeProxy) with k3s's kubeProxyArgs
# (pkg/daemons/agent/agent_linux.go). A real one would program this machine's iptables, so a STAND-IN process that
# does nothing carries its command line (named kube-proxy, as the kubelet stand-in is named kubelet).
printf '#!/usr/bin/env bash\n# STAND-IN for kube-proxy: does nothing (no iptables here); its command line is RKE2'"'"'s.\nwhile sleep 3600; do :; done\n' \
  >"$bin/kube-proxy-standin.sh"
chmod 0755 "$bin/kube-proxy-standin.sh"
ln -sfn /usr/bin/bash "$bin/kube-proxy"
cluster_cidr="$(value cluster-cidr)"
proxy_args=(--cluster-cidr="${cluster_cidr:-10.42.0.0/16}" --conntrack-max-per-core=0 --conntrack-tcp-timeout-close-wait=0s
  --conntrack-tcp-timeout-established=0s --healthz-bind-address=127.0.0.1 --hostname-override="$node"
  --kubeconfig="$agent/kubeproxy.kubeconfig" --proxy-mode=iptables)
manifest kube-proxy "${proxy_args[@]}"
argv_as=(kube-proxy "$bin/kube-proxy-standin.sh" "${proxy_args[@]}")
# shellcheck disable=SC2016 # as above
daemon kube-proxy bash -c 'exec -a kube-proxy "$0" "$@"' "$bin/kube-proxy" "$bin/kube-proxy-standin.sh" "${proxy_args[@]}"
