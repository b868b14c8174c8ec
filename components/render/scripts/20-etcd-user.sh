#!/usr/bin/env bash
# Step "etcd-user" (servers only): the etcd system user and group.
# RKE2's CIS profile looks up user and group "etcd" in /etc/passwd and /etc/group (not NSS) at start and refuses to
# start without them; etcd then runs as that user and owns its data dir (CIS 1.1.11: 700, CIS 1.1.12: etcd:etcd).
# The account is a system account with no login shell and no home, so it cannot be used to log in.
# Idempotent: an existing account is kept, only its shell is corrected.
set -euo pipefail
# The tools this step uses live in the sbin folders too (sysctl, useradd). Run through `sudo`, a script gets sudo's
# secure_path, or the login user's PATH where sudoers sets none, which for a non-root user has no sbin folder.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

nologin=/sbin/nologin
for candidate in /usr/sbin/nologin /sbin/nologin; do
  if [ -x "$candidate" ]; then
    nologin="$candidate"
    break
  fi
done

if ! grep -q '^etcd:' /etc/group; then
  groupadd --system etcd
  echo "hardened-rke2: created group etcd"
fi
if ! grep -q '^etcd:' /etc/passwd; then
  useradd --system --gid etcd --comment "etcd user" --shell "$nologin" --no-create-home --home-dir /nonexistent etcd
  echo "hardened-rke2: created user etcd"
fi

shell="$(grep '^etcd:' /etc/passwd | cut -d: -f7)"
if [ "$shell" != "$nologin" ]; then
  usermod --shell "$nologin" etcd
  echo "hardened-rke2: set the etcd user's shell to $nologin (was $shell)"
fi
echo "hardened-rke2: etcd user and group are in place"
