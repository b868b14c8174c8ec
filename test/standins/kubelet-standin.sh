#!/usr/bin/env bash
# STAND-IN for the kubelet (no container runtime here, so no real kubelet can run). The RKE2 stand-in starts it with
# the kubelet command line RKE2 would use (rke2-standin.sh), under the process name `kubelet`. It runs no pods; it does
# what the rest of the cluster sees of a kubelet:
# - registers its Node (POST /api/v1/nodes, as the kubelet's registerWithAPIServer does) with the labels the kubelet
#   sets itself (kubernetes.io/hostname, os, arch, and --node-labels) and, on servers, the node-role labels k3s's
#   agent adds (control-plane, etcd, master; STANDIN_ROLES from the RKE2 stand-in);
# - posts its status: Ready True and status.nodeInfo.kubeletVersion = the release it ships with (RKE2 builds
#   Kubernetes with its own version string, v1.33.5+rke2r1), so a restart at a new release updates it;
# - renews its Lease in kube-node-lease every 10 s (the kubelet's default), so the controller manager's node
#   lifecycle controller keeps the node Ready; when it stops (RKE2 stopped), the node goes NotReady after the grace
#   period, as a real one does.
# It reads the server and credentials from the --kubeconfig file; it never prints them.
set -euo pipefail

# The release this stand-in ships with (the RKE2 stand-in writes its own version here when it places this file).
version=v1.33.5+rke2r1

flag() { # name: the value of --name=value among the arguments (the last one, as the kubelet takes it)
  local a v=""
  for a in "${ARGS[@]}"; do
    case "$a" in --"$1"=*) v="${a#--"$1"=}" ;; esac
  done
  printf '%s' "$v"
}
ARGS=("$@")
kubeconfig="$(flag kubeconfig)"
node="$(flag hostname-override)"
ip="$(flag node-ip)"
log="$(flag log-file)"
[ -n "$log" ] || log=/dev/null
say() { echo "$(date -u +%FT%TZ) kubelet-standin $*" >>"$log"; }
field() { sed -n "s/^ *$1: *//p" "$kubeconfig" | head -n 1; }
server="$(field server)"
hostport="${server#https://}"
ca="$(field certificate-authority)"
cert="$(field client-certificate)"
key="$(field client-key)"

api() { # method path [body] [content type] -> the HTTP status code
  local body="${3:-}"
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Type: %s\r\nContent-Length: %s\r\n\r\n%s' \
    "$1" "$2" "${hostport%%:*}" "${4:-application/json}" "${#body}" "$body" |
    timeout 15 openssl s_client -quiet -connect "$hostport" -cert "$cert" -key "$key" -CAfile "$ca" -verify_return_error \
      2>/dev/null | head -n 1 | cut -d' ' -f2 || true # head may close the pipe first
}
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

labels="\"kubernetes.io/hostname\":\"$node\",\"kubernetes.io/os\":\"linux\",\"kubernetes.io/arch\":\"amd64\""
labels="$labels,\"beta.kubernetes.io/os\":\"linux\",\"beta.kubernetes.io/arch\":\"amd64\""
IFS=, read -r -a extra <<<"$(flag node-labels)"
for l in "${extra[@]}"; do
  [ -n "$l" ] && labels="$labels,\"${l%%=*}\":\"${l#*=}\""
done
IFS=, read -r -a roles <<<"${STANDIN_ROLES:-}"
for r in "${roles[@]}"; do
  [ -n "$r" ] && labels="$labels,\"node-role.kubernetes.io/$r\":\"true\""
done
meta="{\"name\":\"$node\",\"labels\":{$labels},\"annotations\":{\"rke2.io/hostname\":\"$node\",\"rke2.io/internal-ip\":\"$ip\"}}"

register() {
  local s t info transition=""
  t="$(now)"
  s="$(api POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":$meta}")"
  case "$s" in
    201) transition=",\"lastTransitionTime\":\"$t\"" ;;
    409) s="$(api PATCH "/api/v1/nodes/$node" "{\"metadata\":$meta}" application/strategic-merge-patch+json)" ;;
  esac
  [ "$s" = 201 ] || [ "$s" = 200 ] || return 1
  status "$transition"
}

status() { # [,"lastTransitionTime":...]
  local s t info
  t="$(now)"
  info="{\"kubeletVersion\":\"$version\",\"kubeProxyVersion\":\"$version\",\"operatingSystem\":\"linux\""
  info="$info,\"architecture\":\"amd64\",\"osImage\":\"STAND-IN test host\",\"containerRuntimeVersion\":\"stand-in://none\""
  info="$info,\"kernelVersion\":\"\",\"machineID\":\"\",\"systemUUID\":\"\",\"bootID\":\"\"}"
  s="$(api PATCH "/api/v1/nodes/$node/status" "{\"status\":{\"nodeInfo\":$info,\
\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$ip\"},{\"type\":\"Hostname\",\"address\":\"$node\"}],\
\"capacity\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"110\"},\"allocatable\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"110\"},\
\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\
\"message\":\"kubelet is posting ready status (STAND-IN: runs no containers)\",\"lastHeartbeatTime\":\"$t\"${1:-}}]}}" \
    application/strategic-merge-patch+json)"
  [ "$s" = 200 ]
}

lease() {
  local renew s
  renew="$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)"
  s="$(api PATCH "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$node" \
    "{\"spec\":{\"holderIdentity\":\"$node\",\"leaseDurationSeconds\":40,\"renewTime\":\"$renew\"}}" \
    application/merge-patch+json)"
  if [ "$s" = 404 ]; then
    s="$(api POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases \
      "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"$node\"},\
\"spec\":{\"holderIdentity\":\"$node\",\"leaseDurationSeconds\":40,\"renewTime\":\"$renew\"}}")"
  fi
  [ "$s" = 200 ] || [ "$s" = 201 ]
}

say "starting: node $node, version $version, API server $server"
until register; do
  say "registering node $node failed; retrying"
  sleep 2
done
say "registered node $node at $version"
# Heartbeats: the lease every 10 s; the status again every 5 minutes (nodeStatusReportFrequency), and at once after
# the API server was out of reach (the node lifecycle controller may have marked it Unknown meanwhile; a kubelet
# compares with the server's status every 10 s and posts the change).
n=0
missed=false
while true; do
  if lease; then
    if [ "$missed" = true ]; then status || say "updating the node status failed"; fi
    missed=false
  else
    say "renewing the lease failed"
    missed=true
  fi
  n=$((n + 1))
  if [ $((n % 30)) = 0 ]; then status || say "updating the node status failed"; fi
  sleep 10
done
