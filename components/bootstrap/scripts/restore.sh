#!/usr/bin/env bash
# A restore of the cluster from an etcd snapshot, as RKE2 documents it (docs.rke2.io, "Backup and Restore",
# "Restoring a Snapshot to Existing Nodes"), one action per step of the stack (bootstrap/restore.ts orders them):
# Usage: restore.sh stop|rejoin NODE, restore.sh reset NODE SNAPSHOT FROM
#   stop                    on every server: `systemctl stop rke2-server` (RKE2: "stop the RKE2 service on all server
#                           nodes"), so no member keeps serving the state the snapshot replaces.
#   reset SNAPSHOT FROM     on the first server: `rke2 server --cluster-reset --cluster-reset-restore-path=...`, which
#                           moves the old etcd data to db/etcd-old-<date>, restores the snapshot as a one-member
#                           cluster and exits; then `systemctl start rke2-server`. FROM local: the snapshot is a file
#                           in RKE2's snapshot folder; FROM s3: an object of the bucket config.yaml names (etcd-s3
#                           and its drop-in credentials, read by RKE2 itself: no credential passes through here).
#   rejoin                  on every other server, one at a time: its db folder set aside (RKE2: "remove the rke2 db
#                           directory on the other server nodes"; kept as db-before-restore-<time>, as k3s's own
#                           message says "backup and delete", the operator removes it once satisfied), then
#                           `systemctl start rke2-server`: it joins the restored cluster as a new etcd member.
# Every failure names the node, what failed and what to do.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

action="$1" node="$2"
data=/var/lib/rancher/rke2
snapshots="$data/server/db/snapshots"

fail() {
  echo "hardened-rke2: restore: $*" >&2
  exit 1
}

case "$action" in
  stop)
    systemctl stop rke2-server
    echo "hardened-rke2: restore: rke2-server stopped"
    ;;
  reset)
    snapshot="$3" from="$4"
    if [ "$from" = local ]; then
      restore_path="$snapshots/$snapshot"
      if [ ! -f "$restore_path" ]; then
        listed="$(find "$snapshots" -maxdepth 1 -type f -printf '%f ' 2>/dev/null || true)"
        fail "no snapshot $snapshot on the first server $node (looked for $restore_path; there: ${listed:-nothing}). Set restore.snapshot to one of those, or copy the snapshot there, then run 'pulumi up' again. The servers are stopped until then."
      fi
    else
      restore_path="$snapshot" # the S3 object's name: RKE2 fetches it from the bucket config.yaml names
    fi
    # RKE2 refuses a second reset while the flag of the first is there; it removes the flag on a normal start, so a
    # flag left here means a reset that never started normally afterwards: say so rather than remove it.
    if [ -e "$data/server/db/reset-flag" ]; then
      fail "$data/server/db/reset-flag exists on $node: an earlier cluster reset was not followed by a normal start. Check that node, remove the file, then run 'pulumi up' again."
    fi
    if ! rke2 server --cluster-reset --cluster-reset-restore-path="$restore_path"; then
      fail "rke2 server --cluster-reset --cluster-reset-restore-path=$restore_path failed on $node (its output is above). The servers are stopped; fix the cause and run 'pulumi up' again, or start rke2-server on each server to return to the state before the restore (the old data is in $data/server/db/etcd-old-*)."
    fi
    systemctl start rke2-server
    echo "hardened-rke2: restore: $node restored from $snapshot ($from) and started as a one-member cluster"
    ;;
  rejoin)
    if [ -d "$data/server/db" ]; then
      aside="$data/server/db-before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
      mv "$data/server/db" "$aside"
      echo "hardened-rke2: restore: $node's etcd data set aside in $aside"
    fi
    systemctl start rke2-server
    echo "hardened-rke2: restore: $node started and joined the restored cluster"
    ;;
  *)
    fail "unknown action $action; allowed: stop, reset, rejoin"
    ;;
esac
