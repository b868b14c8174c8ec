#!/usr/bin/env bash
# Runs on the operator's machine before the first step on an existing host, and again whenever the host's address,
# port or pinned key changes in the stack: asks the host for its key of the pinned type and compares. The command
# provider refuses a mismatching host anyway (the key is pinned on every connection); this check only turns that
# refusal into a message that names the node and the fix. Values come from the environment, never from the text.
#   NODE, HOST, PORT, PINNED ("<type> <base64>")
set -euo pipefail

type="${PINNED%% *}"
got="$(ssh-keyscan -T 10 -p "$PORT" -t "$type" "$HOST" 2>/dev/null | awk '!/^#/ { print $2 " " $3; exit }')" || true
if [ -z "$got" ]; then
  echo "hardened-rke2: $NODE ($HOST port $PORT) answered no SSH key scan within 10 s: check the address and port in nodes.hosts, that sshd runs there and that this machine can reach it (ssh-keyscan is needed on this machine)" >&2
  exit 1
fi
if [ "$got" != "$PINNED" ]; then
  echo "hardened-rke2: the SSH host key of $NODE ($HOST port $PORT) is not the one the stack pins in nodes.hosts (name: $NODE). The host answers: $got. Nothing was run on it. If the host was reinstalled, compare that key's fingerprint with the one on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), and once they agree set its hostKey to the key (type and base64) that this prints: ssh-keyscan -t $type -p $PORT $HOST" >&2
  exit 1
fi
echo "hardened-rke2: the host key of $NODE matches the stack"
