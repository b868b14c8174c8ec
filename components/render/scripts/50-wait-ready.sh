#!/usr/bin/env bash
# Step "ready": waits, for a bounded time, until the node has joined: a server has written its token and admin
# kubeconfig, an agent its kubelet kubeconfig. The next server joins only after this step succeeds on the previous
# one, so the control plane grows one member at a time.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

state=/var/lib/hardened-rke2
# shellcheck source=/dev/null
. "$state/node.env"

case "$ROLE" in
  # READY_FILES: the distribution's server token and admin kubeconfig, or the agent's kubelet kubeconfig.
  server | agent) read -r -a wanted <<<"$READY_FILES" ;;
  *)
    echo "hardened-rke2: ROLE is '$ROLE' in $state/node.env; allowed: server, agent" >&2
    exit 1
    ;;
esac

deadline=$(($(date +%s) + WAIT_SECONDS))
while true; do
  ready=true
  for f in "${wanted[@]}"; do
    if [ ! -s "$f" ]; then ready=false; fi
  done
  if [ "$ready" = true ] && systemctl is-active --quiet "$UNIT"; then
    echo "hardened-rke2: $NODE_NAME is ready"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "hardened-rke2: $NODE_NAME is not ready after ${WAIT_SECONDS}s; see 'journalctl -u $UNIT' on the node" >&2
    exit 1
  fi
  sleep "$POLL_SECONDS"
done
