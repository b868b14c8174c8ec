#!/usr/bin/env bash
# Step "start": enables and starts the node's unit (rke2-server, rke2-agent, k3s, k3s-agent: UNIT in node.env), or
# restarts it when a file it reads at start changed.
# The API server reads the audit policy and the pod-security admission file only at start, so a changed file must
# restart the service to take effect; an unchanged node is left running.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

state=/var/lib/hardened-rke2
# shellcheck source=/dev/null
. "$state/node.env"

stamp="$state/started.sha256"

shopt -s nullglob
inputs=(
  "$ETC_DIR/config.yaml"
  "$ETC_DIR"/config.yaml.d/*.yaml
  "$ETC_DIR/registries.yaml"
  "$ETC_DIR"/registries.d/*/*
  "$ETC_DIR/audit-policy.yaml"
  "$ETC_DIR/hardened-rke2-pss.yaml"
  "$DATA_DIR/server/audit.yaml"
  "$DATA_DIR/server/psa.yaml"
  "$ETC_DIR/cluster-token"
  "$ETC_DIR/etcd-s3-ca.crt"
  "/etc/systemd/system/$UNIT"
  "$state/installed.sha256"
)
present=()
for f in "${inputs[@]}"; do
  if [ -f "$f" ]; then present+=("$f"); fi
done
current="$(sha256sum "${present[@]}" | sha256sum | cut -d' ' -f1)"

# K3s does not create the audit log folder, and the API server must not create it with a wider mode: made 0700
# before the first start (K3s CIS hardening guide, "API Server audit configuration"). Empty for RKE2, which does.
if [ -n "$AUDIT_LOG_DIR" ]; then
  mkdir -p "$AUDIT_LOG_DIR"
  chmod 0700 "$AUDIT_LOG_DIR"
fi

systemctl enable "$UNIT" >/dev/null
if systemctl is-active --quiet "$UNIT"; then
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$current" ]; then
    echo "hardened-rke2: $UNIT is running with the current configuration"
    exit 0
  fi
  systemctl restart "$UNIT"
  echo "hardened-rke2: restarted $UNIT to apply changed configuration"
else
  systemctl start "$UNIT"
  echo "hardened-rke2: started $UNIT"
fi
echo "$current" >"$stamp"
