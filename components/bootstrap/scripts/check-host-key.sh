#!/usr/bin/env bash
# Runs on the operator's machine before the first step on any existing host, and again whenever a host's address,
# port or pinned key changes in the stack, or a host comes or goes: asks every host for its key of the pinned type and
# compares. The command provider refuses a mismatching host anyway (the key is pinned on every connection); this
# check only turns that refusal into messages that name each node and the fix. Values come from the environment,
# never from the text.
#   HOSTS: one line per host, "<node> <address> <port> <key type> <key base64>"
set -euo pipefail

scans="$(mktemp -d)"
trap 'rm -rf "$scans"' EXIT
# Every host is asked at once, 50 at a time (each answers within the 10 s ssh-keyscan waits): the check takes about
# as long as the slowest host, not the sum. A host that does not answer leaves an empty scan, reported below.
i=0
while read -r node host port type key; do
  if [ -z "$node" ]; then continue; fi
  i=$((i + 1))
  ssh-keyscan -T 10 -p "$port" -t "$type" "$host" >"$scans/$i" 2>/dev/null &
  if [ $((i % 50)) -eq 0 ]; then wait; fi
done <<<"$HOSTS"
wait

i=0 ok=0 failed=0
while read -r node host port type key; do
  if [ -z "$node" ]; then continue; fi
  i=$((i + 1))
  got="$(awk '!/^#/ { print $2 " " $3; exit }' "$scans/$i")"
  if [ -z "$got" ]; then
    echo "hardened-rke2: $node ($host port $port) answered no SSH key scan within 10 s: check the address and port in nodes.hosts, that sshd runs there and that this machine can reach it (ssh-keyscan is needed on this machine)" >&2
    failed=$((failed + 1))
  elif [ "$got" != "$type $key" ]; then
    echo "hardened-rke2: the SSH host key of $node ($host port $port) is not the one the stack pins in nodes.hosts (name: $node). The host answers: $got. If the host was reinstalled, compare that key's fingerprint with the one on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), and once they agree set its hostKey to the key (type and base64) that this prints: ssh-keyscan -t $type -p $port $host" >&2
    failed=$((failed + 1))
  else
    ok=$((ok + 1))
  fi
done <<<"$HOSTS"
if [ "$failed" -gt 0 ]; then
  echo "hardened-rke2: $failed of $i hosts failed the host-key check; no node step runs until every host passes" >&2
  exit 1
fi
echo "hardened-rke2: the host keys of all $ok hosts match the stack"
