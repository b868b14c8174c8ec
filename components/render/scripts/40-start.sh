#!/usr/bin/env bash
# Step "start": enables and starts rke2-server or rke2-agent, or restarts it when a file it reads at start changed.
# The API server reads the audit policy and the pod-security admission file only at start, so a changed file must
# restart the service to take effect; an unchanged node is left running.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

state=/var/lib/hardened-rke2
# shellcheck source=/dev/null
. "$state/node.env"

unit="rke2-${ROLE}.service"
stamp="$state/started.sha256"

shopt -s nullglob
inputs=(
  /etc/rancher/rke2/config.yaml
  /etc/rancher/rke2/config.yaml.d/*.yaml
  /etc/rancher/rke2/registries.yaml
  /etc/rancher/rke2/registries.d/*/*
  /etc/rancher/rke2/audit-policy.yaml
  /etc/rancher/rke2/hardened-rke2-pss.yaml
  /etc/rancher/rke2/cluster-token
  /etc/rancher/rke2/etcd-s3-ca.crt
  "$state/installed.sha256"
)
present=()
for f in "${inputs[@]}"; do
  if [ -f "$f" ]; then present+=("$f"); fi
done
current="$(sha256sum "${present[@]}" | sha256sum | cut -d' ' -f1)"

systemctl enable "$unit" >/dev/null
if systemctl is-active --quiet "$unit"; then
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$current" ]; then
    echo "hardened-rke2: $unit is running with the current configuration"
    exit 0
  fi
  systemctl restart "$unit"
  echo "hardened-rke2: restarted $unit to apply changed configuration"
else
  systemctl start "$unit"
  echo "hardened-rke2: started $unit"
fi
echo "$current" >"$stamp"
