#!/usr/bin/env bash
# Step "cis": the CIS host checks of this node, read-only. Reads the rendered table (cis-checks.tsv: control ID, kind,
# fields) and makes each audit the way the benchmark's audit command does (rancher/security-scan rke2-cis-1.12, K3s's
# self-assessment): flags from the running processes' command lines (/proc/<pid>/cmdline, the benchmark's `ps -fC
# <bin>`; on K3s from its journal, below), keys of the kubelet's and etcd's config files, and modes and owners of files
# (`stat -c %a`, `stat -c %U:%G`). Prints one PASS/FAIL line per control (a control with several audits passes when
# all do), then a count line. Prints no file
# content and no flag but the ones checked (none of them carries a secret). Exits 0 whatever it finds: the stack's
# verification decides (enforce fails the `up`); 1 only when it cannot run. An audit that fails is a condition
# (`if audit ...`), so `set -e` never ends the script on a FAIL.
# HARDENED_RKE2_ROOT, _PROC and _JOURNAL point it at a test's root, process table and journal text (a file).
set -euo pipefail

root="${HARDENED_RKE2_ROOT:-}"
proc="${HARDENED_RKE2_PROC:-/proc}"
table="$root/var/lib/hardened-rke2/cis-checks.tsv"
[ -r "$table" ] || {
  echo "hardened-rke2: cis: no check table at $table" >&2
  exit 1
}

# The table's directives (`#% key value`): the distribution's data folder (where the kubelet's and etcd's config files
# are when no flag names them), and, on K3s, the unit whose journal holds the components' command lines. K3s runs the
# API server, controller manager, scheduler, kubelet and kube-proxy inside the one k3s process and logs each command
# line as it starts the component (`Running kube-apiserver <flags>`); K3s's CIS self-assessment audits read the last
# such line (`journalctl -m -u k3s | grep 'Running kube-apiserver' | tail -n1`, docs.k3s.io self-assessment-1.12).
data_dir=/var/lib/rancher/rke2
journal_unit=""
while read -r mark key value; do
  [ "$mark" = "#%" ] || continue
  case "$key" in
    data-dir) data_dir="$value" ;;
    args-journal) journal_unit="$value" ;;
  esac
done <"$table"

# The journal's `Running <component> ...` lines, read once (the journal can be large; these lines are few).
running_lines=""
if [ -n "$journal_unit" ]; then
  if [ -n "${HARDENED_RKE2_JOURNAL:-}" ]; then
    running_lines="$(grep -F 'msg="Running ' "$HARDENED_RKE2_JOURNAL" 2>/dev/null || true)"
  else
    running_lines="$(journalctl -m -u "$journal_unit" -o cat --no-pager 2>/dev/null | grep -F 'msg="Running ' || true)"
  fi
fi

# The arguments of the running process named $1, newline-joined, into ARGS[$1]; MISSING[$1] when none runs. Any
# process whose argv[0] has that base name counts, as `ps -C` does. Builtins only: a node has hundreds of processes.
# On K3s, from the component's last `Running` line in the journal (a component K3s has not started has none).
declare -A ARGS=() MISSING=()
load_args() {
  local name="$1" d argv0 a line
  local -a argv
  [ -n "${ARGS[$name]+x}" ] && return 0
  if [ -n "$journal_unit" ]; then
    line="$(grep -F "msg=\"Running $name " <<<"$running_lines" | tail -n 1)" || true
    if [ -z "$line" ]; then
      MISSING[$name]=1
      ARGS[$name]=""
      return 0
    fi
    # The flags after the marker, up to logrus's closing quote; K3s joins them with single spaces (config.ArgString).
    line="${line#*"msg=\"Running $name "}"
    line="${line%\"*}"
    read -r -a argv <<<"$line"
    ARGS[$name]=""
    for a in "${argv[@]}"; do ARGS[$name]+="$a"$'\n'; done
    return 0
  fi
  for d in "$proc"/[0-9]*; do
    [ -r "$d/cmdline" ] || continue
    argv0=""
    # A kernel thread's cmdline is empty: read fails, argv0 stays empty.
    IFS= read -r -d '' argv0 <"$d/cmdline" 2>/dev/null || true
    [ "${argv0##*/}" = "$name" ] || continue
    mapfile -d '' -t argv <"$d/cmdline"
    ARGS[$name]=""
    for a in "${argv[@]:1}"; do ARGS[$name]+="$a"$'\n'; done
    return 0
  done
  MISSING[$name]=1
  ARGS[$name]=""
}

# The value of --$2 of process $1 (the last one given, as Go's flag package takes it) into FLAG; status 1 when absent.
# A variable, not output: a command substitution forks, and a node's table makes a hundred audits on every run.
FLAG=""
flag_value() {
  local f="--$2" line value="" found=0 take=0
  load_args "$1"
  while IFS= read -r line; do
    if [ "$take" = 1 ]; then
      take=0
      if [[ "$line" != --* ]]; then value="$line"; continue; fi
    fi
    if [[ "$line" == "$f="* ]]; then
      value="${line#"$f="}" found=1
    elif [ "$line" = "$f" ]; then
      value=true found=1 take=1
    fi
  done <<<"${ARGS[$1]}"
  FLAG="$value"
  [ "$found" = 1 ]
}

running() { load_args "$1" && [ -z "${MISSING[$1]+x}" ]; }

# The value of a dotted key ($1) in a YAML file ($2) of block maps, the way RKE2 writes the kubelet's and etcd's
# config; a list (block or flow) comes back comma-joined. Status 1 when the key is absent.
yaml_value() {
  awk -v target="$1" '
    function clean(s) { gsub(/^["'\'']|["'\'']$/, "", s); return s }
    /^[ \t]*(#.*)?$/ { next }
    {
      match($0, /^ */); ind = RLENGTH; rest = substr($0, ind + 1)
      if (collecting) {
        if (rest ~ /^- / && ind >= cind) { item = clean(substr(rest, 3)); out = out (out == "" ? "" : ",") item; next }
        print out; found = 1; exit
      }
      if (rest ~ /^- / || index(rest, ":") == 0) next
      k = substr(rest, 1, index(rest, ":") - 1); v = substr(rest, index(rest, ":") + 1)
      sub(/^ +/, "", v); sub(/ +#.*$/, "", v)
      while (n > 0 && inds[n] >= ind) n--
      n++; inds[n] = ind; keys[n] = clean(k)
      p = keys[1]; for (i = 2; i <= n; i++) p = p "." keys[i]
      if (p == target) {
        if (v ~ /^\[/) { gsub(/[][ "'\'']/, "", v); print v; found = 1; exit }
        if (v != "") { print clean(v); found = 1; exit }
        collecting = 1; cind = ind; out = ""
      }
    }
    END { if (collecting && !found) { print out; found = 1 } exit !found }' "$2"
}

# The kubelet's config files in the order it reads them, one a line, into KUBELET_CONFIGS (found once per run):
# --config, then --config-dir's *.conf sorted (drop-ins override); the distribution's own folder when the kubelet is
# not running.
KUBELET_CONFIGS="" kubelet_configs_found=0
kubelet_configs() {
  local dir
  [ "$kubelet_configs_found" = 1 ] && return 0
  kubelet_configs_found=1
  if flag_value kubelet config && [ -r "$root$FLAG" ]; then KUBELET_CONFIGS="$root$FLAG"$'\n'; fi
  if flag_value kubelet config-dir; then dir="$FLAG"; else dir=""; fi
  [ -z "$dir" ] && ! running kubelet && dir="$data_dir/agent/etc/kubelet.conf.d"
  if [ -n "$dir" ] && [ -d "$root$dir" ]; then
    KUBELET_CONFIGS+="$(find "$root$dir" -maxdepth 1 -name '*.conf' | LC_ALL=C sort)"
  fi
}

# A kubelet setting: the flag when given, else the last config file that sets the key. Prints "source<TAB>value".
kubelet_value() {
  local v f found=""
  if [ -n "$1" ] && flag_value kubelet "$1"; then
    printf -- '--%s\t%s\n' "$1" "$FLAG"
    return 0
  fi
  kubelet_configs
  # A here-string, not process substitution: that needs /dev/fd, which a minimal root (the e2e's test hosts) lacks;
  # the check then read no kubelet config file at all.
  while read -r f; do
    [ -n "$f" ] || continue
    if v="$(yaml_value "$2" "$f")"; then found="$v"; fi
  done <<<"$KUBELET_CONFIGS"
  [ -n "$found" ] || return 1
  printf '%s\t%s\n' "$2" "$found"
}

in_list() { # $1 in comma list $2
  local IFS=, e
  for e in $2; do [ "$e" = "$1" ] && return 0; done
  return 1
}

# compare OP PRESENT VALUE WANT: the benchmark's test item.
compare() {
  local op="$1" present="$2" v="$3" want="$4" e
  case "$op" in
    set) [ "$present" = 1 ] ;;
    unset) [ "$present" = 0 ] ;;
    eq) [ "$present" = 1 ] && [ "$v" = "$want" ] ;;
    eq\|unset) [ "$present" = 0 ] || [ "$v" = "$want" ] ;;
    noteq) [ "$present" = 1 ] && [ "$v" != "$want" ] ;;
    noteq\|unset) [ "$present" = 0 ] || [ "$v" != "$want" ] ;;
    has) [ "$present" = 1 ] && in_list "$want" "$v" ;;
    nothave) [ "$present" = 1 ] && ! in_list "$want" "$v" ;;
    nothave\|unset) [ "$present" = 0 ] || ! in_list "$want" "$v" ;;
    gte) [ "$present" = 1 ] && [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge "$want" ] ;;
    subset)
      [ "$present" = 1 ] && [ -n "$v" ] || return 1
      local IFS=,
      for e in $v; do in_list "$e" "$want" || return 1; done
      ;;
    contains\|unset) [ "$present" = 0 ] || [[ "$v" == *"$want"* ]] ;;
    *) return 2 ;;
  esac
}

# user:group of a numeric uid:gid into NAMES, named from the node's own account files (as `stat -c %U:%G` on the node
# does; the first entry of an id wins, as getpwuid's file lookup does). The files are read once, with builtins.
declare -A USER_OF=() GROUP_OF=()
accounts_read=0
names() {
  local name rest id uid="${1%%:*}" gid="${1##*:}"
  if [ "$accounts_read" = 0 ]; then
    accounts_read=1
    if [ -r "$root/etc/passwd" ]; then
      while IFS=: read -r name rest id rest || [ -n "$name" ]; do
        if [ -n "$id" ] && [ -z "${USER_OF[$id]+x}" ]; then USER_OF[$id]="$name"; fi
      done <"$root/etc/passwd"
    fi
    if [ -r "$root/etc/group" ]; then
      while IFS=: read -r name rest id rest || [ -n "$name" ]; do
        if [ -n "$id" ] && [ -z "${GROUP_OF[$id]+x}" ]; then GROUP_OF[$id]="$name"; fi
      done <"$root/etc/group"
    fi
  fi
  NAMES="${USER_OF[$uid]:-$uid}:${GROUP_OF[$gid]:-$gid}"
}

# A file's octal mode and numeric owner, "mode uid:gid", into STAT: one `stat` per file and run (its mode line and its
# owner line read the same answer).
declare -A STATS=()
file_stat() {
  [ -n "${STATS[$1]+x}" ] || STATS[$1]="$(stat -c '%a %u:%g' "$1")"
  STAT="${STATS[$1]}"
}

# One audit: sets $detail, returns 0 for PASS.
audit() {
  local kind="$1" a="$2" b="$3" c="$4" d="$5" v present f mode matched=0 src
  case "$kind" in
    mode | owner)
      for f in $root$a; do
        [ -e "$f" ] || continue
        matched=1
        file_stat "$f"
        if [ "$kind" = mode ]; then
          mode="${STAT%% *}"
          if (((8#$mode & ~8#$b) != 0)); then
            detail="$a: ${f#"$root"} mode $mode (at most $b)"
            return 1
          fi
        else
          names "${STAT#* }"
          v="$NAMES"
          if [ "$v" != "$b" ]; then
            detail="$a: ${f#"$root"} owned by $v (wanted $b)"
            return 1
          fi
        fi
      done
      if [ "$matched" = 0 ]; then
        detail="$a: absent"
        [ "$c" = optional ]
        return
      fi
      if [ "$kind" = mode ]; then detail="$a: mode $b or stricter"; else detail="$a: owned by $b"; fi
      return 0
      ;;
    flag)
      if ! running "$a"; then
        detail="$a is not running"
        return 1
      fi
      if flag_value "$a" "$b"; then present=1 v="$FLAG"; else present=0 v=""; fi
      if [ "$present" = 1 ]; then detail="$a --$b=$v"; else detail="$a runs without --$b"; fi
      compare "$c" "$present" "$v" "$d"
      ;;
    kubelet)
      [ "$a" = - ] && a=""
      kubelet_configs
      if ! running kubelet && [ -z "$KUBELET_CONFIGS" ]; then
        detail="kubelet is not running and has no config file"
        return 1
      fi
      if src="$(kubelet_value "$a" "$b")"; then
        present=1
        v="${src#*$'\t'}"
        detail="kubelet ${src%%$'\t'*}=$v"
      else
        present=0 v=""
        detail="kubelet sets neither ${a:+--$a nor }$b"
      fi
      compare "$c" "$present" "$v" "$d"
      ;;
    etcd)
      if flag_value etcd config-file; then f="$FLAG"; else f="$data_dir/server/db/etcd/config"; fi
      if [ ! -r "$root$f" ]; then
        detail="etcd config $f: absent"
        return 1
      fi
      if v="$(yaml_value "$a" "$root$f")"; then present=1; else present=0; fi
      if [ "$present" = 1 ]; then detail="etcd $a: $v"; else detail="etcd config sets no $a"; fi
      compare "$b" "$present" "$v" "$c"
      ;;
    encryption)
      if flag_value kube-apiserver encryption-provider-config; then f="$FLAG"; else
        detail="kube-apiserver runs without --encryption-provider-config"
        return 1
      fi
      if [ ! -r "$root$f" ]; then
        detail="$f: absent"
        return 1
      fi
      # The provider Secrets are written with: the first one listed (RKE2 writes this file as JSON).
      v="$(tr -d ' \t\r\n' <"$root$f" | grep -o '"providers":\[{"[A-Za-z]*"' | head -n 1 | sed 's/.*{"\([A-Za-z]*\)"$/\1/')"
      detail="Secrets written with ${v:-no provider}"
      [ -n "$v" ] && in_list "$v" "$a"
      ;;
    *)
      detail="unknown check kind $kind"
      return 1
      ;;
  esac
}

declare -A verdict=() first_detail=()
order=()
while IFS=$'\t' read -r id kind a b c d; do
  case "$id" in '' | '#'*) continue ;; esac
  if [ -z "${verdict[$id]+x}" ]; then
    order+=("$id")
    verdict[$id]=PASS
    first_detail[$id]=""
  fi
  detail=""
  if audit "$kind" "$a" "${b:-}" "${c:-}" "${d:-}"; then
    [ "${verdict[$id]}" = PASS ] && first_detail[$id]="${first_detail[$id]:+${first_detail[$id]}; }$detail"
  else
    if [ "${verdict[$id]}" = PASS ]; then first_detail[$id]="$detail"; else first_detail[$id]+="; $detail"; fi
    verdict[$id]=FAIL
  fi
done <"$table"

pass=0 fail=0
for id in "${order[@]}"; do
  echo "${verdict[$id]} $id ${first_detail[$id]}"
  if [ "${verdict[$id]}" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "hardened-rke2: cis: $((pass + fail)) host checks, $pass PASS, $fail FAIL"
