#!/usr/bin/env bash
# Builds the end-to-end test toolchain of hardened-rke2 from the Go module proxy only
# (no GitHub / get.pulumi.com downloads): Pulumi CLI, Node.js language host, the kubernetes
# resource provider, kube-apiserver + kube-controller-manager, kube-scheduler + kubectl, etcd, etcdutl +
# etcdctl, and
# the test stand-in for the command provider (test/standins/command-provider, built from this
# repo's own sources).
#
# Usage:  e2e/toolchain/build.sh [--print-env] [component ...]
#         components: pulumi language-nodejs kubernetes etcd etcd-tools kube kube-tools command-standin
#                     (the default list), command (only when named: the real pulumi-command from the proxy)
#         etcd-tools: etcdutl and etcdctl at the same version as `etcd` (its resolution is reused), for the
#                     RKE2 stand-in's `etcd-snapshot save` and `--cluster-reset-restore-path`; a component of
#                     its own so that a cache built before it existed keeps its `etcd` build
#         kube-tools: kube-scheduler and kubectl from the same k8s.io/kubernetes version as `kube`
#                     (its resolution is reused), a component of its own so that a cache built
#                     before it existed keeps its `kube` build
#         --print-env  only print the environment the e2e harness must use, build nothing
#
# Everything goes to ${HARDENED_RKE2_CACHE:-$HOME/.cache/hardened-rke2}/toolchain (outside the repo):
#   <component>-<version>/     one folder per built component; `.built` is written last, so an
#                              interrupted build is redone and a finished one is reused
#   command-standin-<hash>/    pulumi-resource-command (the stand-in), <hash> from its sources; not
#                              linked into bin/: the harness takes the command provider from the
#                              folder named by HARDENED_RKE2_COMMAND_PROVIDER_DIR (default: this
#                              one), so a build of the real provider can be dropped in there
#   bin/                       symlinks to every binary: put this folder on PATH
#   go/                        shared GOMODCACHE and GOCACHE (makes reruns fast)
#   resolved/                  version picked per component on the first run (re-pick: TOOLCHAIN_REFRESH=1)
#   work/, logs/               throw-away Go modules and build logs
#
# Wanted versions (environment overrides):
#   PULUMI_WANTED (v3.270.0, npm @pulumi/pulumi), KUBERNETES_PROVIDER_WANTED (v4.34.2, npm
#   @pulumi/kubernetes), COMMAND_WANTED (v1.2.1, npm @pulumi/command), KUBE_WANTED_MINOR (1.33),
#   ETCD_WANTED_MINOR (3.6), PULUMI_LANGUAGE_NODEJS_PSEUDO (a pseudo-version of the untagged
#   module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, if one is known).
# When the proxy lacks the wanted version the nearest one it serves is used, and the summary says so.
# pulumi-command is not served by the proxy here at any version (checked 2026-12-01): the `command`
# component, built only when named, then fails with that reason. The default list builds the
# stand-in `command-standin` instead (test only, never ships; see its main.go).
# Exit status: 0 when every component is built or reused, 1 otherwise (with the failing log's tail).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
CACHE_ROOT="${HARDENED_RKE2_CACHE:-$HOME/.cache/hardened-rke2}"
TC="$CACHE_ROOT/toolchain"
BIN="$TC/bin"
RESOLVED="$TC/resolved"
LOGS="$TC/logs"
WORK="$TC/work"

PULUMI_WANTED="${PULUMI_WANTED:-v3.270.0}"
KUBERNETES_PROVIDER_WANTED="${KUBERNETES_PROVIDER_WANTED:-v4.34.2}"
COMMAND_WANTED="${COMMAND_WANTED:-v1.2.1}"
KUBE_WANTED_MINOR="${KUBE_WANTED_MINOR:-1.33}"
ETCD_WANTED_MINOR="${ETCD_WANTED_MINOR:-3.6}"
PULUMI_LANGUAGE_NODEJS_PSEUDO="${PULUMI_LANGUAGE_NODEJS_PSEUDO:-}"

ALL_COMPONENTS=(pulumi language-nodejs kubernetes etcd etcd-tools kube kube-tools command-standin)
STANDIN_SRC="$(cd "$HERE/../.." && pwd)/test/standins/command-provider"
STANDIN_MOD=hardened-rke2.invalid/test/standins/command-provider

PULUMI_PKG_MOD=github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MOD=github.com/pulumi/pulumi/sdk/v3
NODEJS_HOST_MOD=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
# The Node.js host lived inside sdk/v3 (package nodejs/cmd/pulumi-language-nodejs) up to v3.68.0.
NODEJS_HOST_LAST_IN_SDK=v3.68.0
COMMAND_MOD=github.com/pulumi/pulumi-command/provider
# pulumi-command has no provider/v* tags: v1.2.1 = commit 7f3eb6f3b77c (2026-03-03 23:59:22 UTC).
COMMAND_RELEASES="v1.2.1 v0.0.0-20260303235922-7f3eb6f3b77c"
K8S_PROVIDER_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_SDK_MOD=github.com/pulumi/pulumi-kubernetes/sdk/v4
KUBE_MOD=k8s.io/kubernetes
ETCD_MOD=go.etcd.io/etcd/server/v3
ETCDUTL_MOD=go.etcd.io/etcd/etcdutl/v3
ETCDCTL_MOD=go.etcd.io/etcd/etcdctl/v3

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() {
	printf '[toolchain] ERROR: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- Go environment
find_go() {
	if [[ -n "${GO:-}" ]]; then
		printf '%s\n' "$GO"
	elif command -v go >/dev/null 2>&1; then
		command -v go
	elif [[ -x /usr/local/go/bin/go ]]; then
		printf '%s\n' /usr/local/go/bin/go
	else
		die "no Go toolchain found (looked at \$GO, PATH and /usr/local/go/bin/go)"
	fi
}

setup_go() {
	GO="$(find_go)"
	export GOMODCACHE="$TC/go/pkg/mod"
	export GOCACHE="$TC/go/build-cache"
	export GOPATH="$TC/go"
	export GOTOOLCHAIN=local
	export GOWORK=off
	export CGO_ENABLED=0
	GO_VERSION="$("$GO" env GOVERSION)"
	GO_VERSION="${GO_VERSION#go}"
	command -v jq >/dev/null 2>&1 || die "jq is needed to read go.mod files (apt-get install -y jq)"
	mkdir -p "$GOMODCACHE" "$GOCACHE" "$BIN" "$RESOLVED" "$LOGS" "$WORK"
}

# go commands that run outside any module (version queries): no -mod flag there.
gox() { (cd "$WORK" && GOFLAGS="-buildvcs=false -modcacherw" "$GO" "$@"); }

# True if the proxy serves MODULE@VERSION completely (info, go.mod and zip).
mod_available() {
	local out
	out="$(gox mod download -json "$1@$2" 2>/dev/null)" || return 1
	! grep -q '"Error"' <<<"$out"
}

mod_field() { # MODULE VERSION FIELD  -> a field of `go mod download -json` (GoMod, Dir, ...)
	gox mod download -json "$1@$2" | jq -r ".$3"
}

list_versions() { # MODULE -> the versions the proxy lists, one a line (may be incomplete)
	gox list -m -versions "$1" 2>/dev/null | tr ' ' '\n' | tail -n +2 || true
}

# Reads versions on stdin; prints the plain releases ordered by distance to WANTED
# (same major), newer first on a tie.
order_by_distance() {
	awk -v w="$1" '
		function key(v, a) { sub(/^v/, "", v); split(v, a, "."); return a[2] * 1000000 + a[3] }
		function major(v, a) { sub(/^v/, "", v); split(v, a, "."); return a[1] }
		/^v[0-9]+\.[0-9]+\.[0-9]+$/ {
			if (major($0) != major(w)) next
			d = key($0) - key(w); if (d < 0) d = -d
			print d, key($0), $0
		}' | sort -k1,1n -k2,2nr | awk '{print $3}'
}

# ---------------------------------------------------------------- version resolution (cached)
# A resolution is one line: MODULE VERSION LABEL PACKAGE NOTE...
resolved_file() { printf '%s/%s@%s\n' "$RESOLVED" "$1" "$2"; }

resolve() { # COMPONENT WANTED -> prints the cached or fresh resolution line
	local comp="$1" wanted="$2" file line
	file="$(resolved_file "$comp" "$wanted")"
	if [[ -s "$file" && -z "${TOOLCHAIN_REFRESH:-}" ]]; then
		cat "$file"
		return
	fi
	line="$("resolve_$comp")" || return 1
	[[ -n "$line" ]] || return 1
	printf '%s\n' "$line" >"$file.tmp"
	mv "$file.tmp" "$file"
	printf '%s\n' "$line"
}

resolve_pulumi() {
	local c tries=0
	local -a cands
	mapfile -t cands < <(list_versions "$PULUMI_PKG_MOD" | order_by_distance "$PULUMI_WANTED")
	for c in "$PULUMI_WANTED" "${cands[@]}"; do
		tries=$((tries + 1))
		((tries <= 8)) || break
		if mod_available "$PULUMI_PKG_MOD" "$c" && mod_available "$PULUMI_SDK_MOD" "$c"; then
			if [[ "$c" == "$PULUMI_WANTED" ]]; then
				printf '%s %s %s %s %s\n' "$PULUMI_PKG_MOD" "$c" "$c" "$PULUMI_PKG_MOD/cmd/pulumi" "wanted version"
			else
				printf '%s %s %s %s %s\n' "$PULUMI_PKG_MOD" "$c" "$c" "$PULUMI_PKG_MOD/cmd/pulumi" \
					"wanted $PULUMI_WANTED is not served by the proxy; nearest served"
			fi
			return
		fi
		log "pulumi: $PULUMI_PKG_MOD@$c not served, trying the next nearest"
	done
	log "pulumi: no usable version of $PULUMI_PKG_MOD near $PULUMI_WANTED"
	return 1
}

resolve_language-nodejs() {
	local pulumi_ver c
	local -a cands
	pulumi_ver="$(resolve pulumi "$PULUMI_WANTED" | awk '{print $2}')" || return 1
	# 1) the stand-alone module (v3.69.0+): untagged, so only a known pseudo-version or a tag query.
	for c in "$PULUMI_LANGUAGE_NODEJS_PSEUDO" "$pulumi_ver"; do
		[[ -n "$c" ]] || continue
		if mod_available "$NODEJS_HOST_MOD" "$c"; then
			printf '%s %s %s %s %s\n' "$NODEJS_HOST_MOD" "$c" "$c" "$NODEJS_HOST_MOD" "stand-alone module"
			return
		fi
	done
	log "language-nodejs: $NODEJS_HOST_MOD is not served (no tags; proxy refuses it); falling back to the host inside $PULUMI_SDK_MOD <= $NODEJS_HOST_LAST_IN_SDK"
	# 2) the host inside sdk/v3, newest served version <= v3.68.0.
	mapfile -t cands < <(list_versions "$PULUMI_SDK_MOD" | order_by_distance "$NODEJS_HOST_LAST_IN_SDK")
	for c in "${cands[@]}"; do
		[[ "$(printf '%s\n%s\n' "$c" "$NODEJS_HOST_LAST_IN_SDK" | sort -V | tail -1)" == "$NODEJS_HOST_LAST_IN_SDK" ]] || continue
		if mod_available "$PULUMI_SDK_MOD" "$c"; then
			printf '%s %s %s %s %s\n' "$PULUMI_SDK_MOD" "$c" "$c" "$PULUMI_SDK_MOD/nodejs/cmd/pulumi-language-nodejs" \
				"stand-alone module not served; last host shipped inside sdk/v3"
			return
		fi
	done
	return 1
}

resolve_kubernetes() {
	local rel pseudo
	while read -r rel pseudo; do
		if mod_available "$K8S_PROVIDER_MOD" "$pseudo" && mod_available "$K8S_SDK_MOD" "$rel"; then
			if [[ "$rel" == "$KUBERNETES_PROVIDER_WANTED" ]]; then
				printf '%s %s %s %s %s\n' "$K8S_PROVIDER_MOD" "$pseudo" "$rel" "$K8S_PROVIDER_MOD/cmd/pulumi-resource-kubernetes" "wanted version"
			else
				printf '%s %s %s %s %s\n' "$K8S_PROVIDER_MOD" "$pseudo" "$rel" "$K8S_PROVIDER_MOD/cmd/pulumi-resource-kubernetes" \
					"wanted $KUBERNETES_PROVIDER_WANTED is not served by the proxy; nearest served release"
			fi
			return
		fi
	done < <(grep -v '^#' "$HERE/kubernetes-provider-releases.txt" |
		awk -v w="$KUBERNETES_PROVIDER_WANTED" '
			function key(v, a) { sub(/^v/, "", v); split(v, a, "."); return a[1] * 1e8 + a[2] * 1e4 + a[3] }
			NF == 2 { d = key($1) - key(w); if (d < 0) d = -d; print d, key($1), $1, $2 }' |
		sort -k1,1n -k2,2nr | awk '{print $3, $4}')
	log "kubernetes: none of the releases in kubernetes-provider-releases.txt is served by the proxy"
	return 1
}

resolve_command() {
	local rel pseudo
	read -r rel pseudo <<<"$COMMAND_RELEASES"
	if [[ "$rel" == "$COMMAND_WANTED" ]] && mod_available "$COMMAND_MOD" "$pseudo"; then
		printf '%s %s %s %s %s\n' "$COMMAND_MOD" "$pseudo" "$rel" "$COMMAND_MOD/cmd/pulumi-resource-command" "wanted version"
		return
	fi
	log "command: $COMMAND_MOD@$pseudo ($COMMAND_WANTED) is not served by the Go module proxy; no version of pulumi-command is"
	return 1
}

resolve_command-standin() {
	printf '%s %s %s %s %s\n' "$STANDIN_MOD" "$(wanted_of command-standin)" "$(wanted_of command-standin)" . \
		"test stand-in for pulumi-command v1.2.1 (never ships); HARDENED_RKE2_COMMAND_PROVIDER_DIR selects the provider"
}

resolve_kube() {
	local c
	local -a cands
	mapfile -t cands < <(list_versions "$KUBE_MOD" | grep -E "^v${KUBE_WANTED_MINOR//./\\.}\.[0-9]+$" | sort -rV)
	for c in "${cands[@]}"; do
		if mod_available "$KUBE_MOD" "$c" && mod_available k8s.io/api "v0.${c#v1.}"; then
			printf '%s %s %s %s %s\n' "$KUBE_MOD" "$c" "$c" "$KUBE_MOD/cmd/kube-apiserver" "newest served v$KUBE_WANTED_MINOR patch"
			return
		fi
	done
	log "kube: no v$KUBE_WANTED_MINOR.x of $KUBE_MOD is served by the proxy"
	return 1
}

# The same Kubernetes version as `kube` (its cached resolution), so every control-plane binary matches.
resolve_kube-tools() {
	local line
	line="$(resolve kube "$(wanted_of kube)")" || return 1
	awk '{ printf "%s %s %s %s %s\n", $1, $2, $3, $1 "/cmd/kube-scheduler", "same version as kube" }' <<<"$line"
}

resolve_etcd() {
	local c
	local -a cands
	mapfile -t cands < <(list_versions "$ETCD_MOD" | grep -E "^v${ETCD_WANTED_MINOR//./\\.}\.[0-9]+$" | sort -rV)
	for c in "${cands[@]}"; do
		if mod_available "$ETCD_MOD" "$c"; then
			printf '%s %s %s %s %s\n' "$ETCD_MOD" "$c" "$c" "$ETCD_MOD" "newest served v$ETCD_WANTED_MINOR patch"
			return
		fi
	done
	log "etcd: no v$ETCD_WANTED_MINOR.x of $ETCD_MOD is served by the proxy"
	return 1
}

# The same etcd version as `etcd` (its cached resolution): etcdutl writes and restores that version's snapshots.
resolve_etcd-tools() {
	local line ver
	line="$(resolve etcd "$(wanted_of etcd)")" || return 1
	ver="$(awk '{print $2}' <<<"$line")"
	if ! mod_available "$ETCDUTL_MOD" "$ver" || ! mod_available "$ETCDCTL_MOD" "$ver"; then
		log "etcd-tools: $ETCDUTL_MOD or $ETCDCTL_MOD at $ver is not served by the proxy"
		return 1
	fi
	printf '%s %s %s %s %s\n' "$ETCDUTL_MOD" "$ver" "$ver" "$ETCDUTL_MOD" "same version as etcd"
}

# Content hash of the stand-in's sources (tests excluded): its version label and cache key.
standin_hash() {
	(cd "$STANDIN_SRC" && find . -maxdepth 1 -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' |
		LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
}

wanted_of() {
	case "$1" in
	command-standin) printf 'src-%s\n' "$(standin_hash)" ;;
	pulumi | language-nodejs) printf '%s\n' "$PULUMI_WANTED" ;;
	kubernetes) printf '%s\n' "$KUBERNETES_PROVIDER_WANTED" ;;
	command) printf '%s\n' "$COMMAND_WANTED" ;;
	kube | kube-tools) printf 'v%s\n' "$KUBE_WANTED_MINOR" ;;
	etcd | etcd-tools) printf 'v%s\n' "$ETCD_WANTED_MINOR" ;;
	*) die "unknown component: $1" ;;
	esac
}

binaries_of() {
	case "$1" in
	pulumi) printf '%s\n' pulumi ;;
	language-nodejs) printf '%s\n' pulumi-language-nodejs ;;
	kubernetes) printf '%s\n' pulumi-resource-kubernetes ;;
	command | command-standin) printf '%s\n' pulumi-resource-command ;;
	kube) printf '%s\n' kube-apiserver kube-controller-manager ;;
	kube-tools) printf '%s\n' kube-scheduler kubectl ;;
	etcd) printf '%s\n' etcd ;;
	etcd-tools) printf '%s\n' etcdutl etcdctl ;;
	esac
}

# ---------------------------------------------------------------- throw-away module helpers
new_module() { # DIR NAME
	rm -rf "$1"
	mkdir -p "$1"
	printf 'module hardened-rke2.invalid/toolchain/%s\n\ngo %s\n' "$2" "$GO_VERSION" >"$1/go.mod"
}

# Copies the replace directives of UPSTREAM_GOMOD into the module in DIR. Version replaces are
# copied as they are; local-path replaces (=> ../x) become "OLD => OLD VERSION", with VERSION
# from the "glob version" pairs that follow; a version of "-" drops that replace (guards such as
# etcd's "go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY").
copy_replaces() {
	local dir="$1" gomod="$2"
	shift 2
	local -a map=("$@")
	local op ov np nv lhs rhs i mapped
	# "|" separates the fields: a tab would be whitespace to `read` and empty fields would collapse
	while IFS='|' read -r op ov np nv; do
		[[ -n "$op" ]] || continue
		lhs="$op"
		[[ -z "$ov" ]] || lhs="$op@$ov"
		if [[ -n "$nv" ]]; then
			rhs="$np@$nv"
		else
			mapped=""
			for ((i = 0; i + 1 < ${#map[@]}; i += 2)); do
				# shellcheck disable=SC2254 # the map holds glob patterns on purpose
				case "$op" in
				${map[i]})
					mapped="${map[i + 1]}"
					break
					;;
				esac
			done
			[[ -n "$mapped" ]] || die "replace $op => $np is a local path and no version is mapped for it"
			[[ "$mapped" != "-" ]] || continue
			rhs="$op@$mapped"
		fi
		(cd "$dir" && "$GO" mod edit -replace="$lhs=$rhs")
	done < <("$GO" mod edit -json "$gomod" | jq -r '(.Replace // [])[] | [.Old.Path, (.Old.Version // ""), .New.Path, (.New.Version // "")] | join("|")')
}

require() { (cd "$1" && "$GO" mod edit -require="$2@$3"); }

gobuild() { # DIR OUT LDFLAGS PACKAGE...
	local dir="$1" out="$2" ldflags="$3"
	shift 3
	(cd "$dir" && GOFLAGS="-mod=mod -modcacherw -buildvcs=false -trimpath" nice -n 10 "$GO" build -ldflags "$ldflags" -o "$out" "$@")
}

# ---------------------------------------------------------------- component builds
# Each build_X gets: MODULE VERSION LABEL PACKAGE OUTDIR WORKDIR (the resolution plus folders).
build_pulumi() {
	local mod="$1" ver="$2" pkg="$4" out="$5" w="$6"
	new_module "$w" pulumi
	require "$w" "$mod" "$ver"
	require "$w" "$PULUMI_SDK_MOD" "$ver"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)" "$PULUMI_SDK_MOD" "$ver"
	gobuild "$w" "$out/pulumi" "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" "$pkg"
}

build_language-nodejs() {
	local mod="$1" ver="$2" pkg="$4" out="$5" w="$6" pulumi_ver
	pulumi_ver="$(resolve pulumi "$PULUMI_WANTED" | awk '{print $2}')"
	new_module "$w" language-nodejs
	require "$w" "$mod" "$ver"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)" "$PULUMI_PKG_MOD" "$pulumi_ver" "$PULUMI_SDK_MOD" "$pulumi_ver"
	gobuild "$w" "$out/pulumi-language-nodejs" "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" "$pkg"
}

build_kubernetes() {
	local mod="$1" ver="$2" rel="$3" out="$5" w="$6" src
	new_module "$w" kubernetes
	require "$w" "$mod" "$ver"
	require "$w" "$K8S_SDK_MOD" "$rel"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)" "$K8S_SDK_MOD" "$rel"
	# The module zip lacks the generated schema-embed.json / terraform-mapping-embed.json that
	# main.go embeds, so build a copy of the cmd package and run its own generator (go:generate).
	src="$(mod_field "$mod" "$ver" Dir)/cmd/pulumi-resource-kubernetes"
	mkdir -p "$w/cmd"
	cp -R "$src" "$w/cmd/pulumi-resource-kubernetes"
	chmod -R u+w "$w/cmd"
	(cd "$w/cmd/pulumi-resource-kubernetes" && VERSION="${rel#v}" GOFLAGS="-mod=mod -modcacherw -buildvcs=false" nice -n 10 "$GO" run ./generate.go)
	gobuild "$w" "$out/pulumi-resource-kubernetes" \
		"-s -w -X $K8S_PROVIDER_MOD/pkg/version.Version=${rel#v}" ./cmd/pulumi-resource-kubernetes
}

build_command() {
	local mod="$1" ver="$2" rel="$3" pkg="$4" out="$5" w="$6"
	new_module "$w" command
	require "$w" "$mod" "$ver"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)"
	gobuild "$w" "$out/pulumi-resource-command" "-s -w -X $mod/pkg/version.Version=${rel#v}" "$pkg"
}

# The stand-in is its own module with a go.sum: built in place, -mod=readonly.
build_command-standin() {
	local out="$5"
	(cd "$STANDIN_SRC" && GOFLAGS="-mod=readonly -modcacherw -buildvcs=false -trimpath" nice -n 10 \
		"$GO" build -ldflags "-s -w" -o "$out/pulumi-resource-command" .)
}

# MODULE VERSION OUTDIR WORKDIR NAME PACKAGE...: Kubernetes commands with the version stamped as a release build has it.
kube_build() {
	local mod="$1" ver="$2" out="$3" w="$4" name="$5" staging minor ldflags p
	shift 5
	staging="v0.${ver#v1.}"
	minor="${ver#v1.}"
	minor="${minor%%.*}"
	new_module "$w" "$name"
	require "$w" "$mod" "$ver"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)" 'k8s.io/*' "$staging"
	ldflags="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $p.gitVersion=$ver -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
		ldflags+=" -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	gobuild "$w" "$out/" "$ldflags" "$@"
}

build_kube() {
	kube_build "$1" "$2" "$5" "$6" kube "$1/cmd/kube-apiserver" "$1/cmd/kube-controller-manager"
}

build_kube-tools() {
	kube_build "$1" "$2" "$5" "$6" kube-tools "$1/cmd/kube-scheduler" "$1/cmd/kubectl"
}

build_etcd() {
	local mod="$1" ver="$2" pkg="$4" out="$5" w="$6"
	new_module "$w" etcd
	require "$w" "$mod" "$ver"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)" go.etcd.io/etcd - go.etcd.io/tests/v3 - 'go.etcd.io/etcd/*' "$ver"
	gobuild "$w" "$out/etcd" "-s -w" "$pkg"
}

build_etcd-tools() {
	local mod="$1" ver="$2" out="$5" w="$6"
	new_module "$w" etcd-tools
	require "$w" "$mod" "$ver"
	require "$w" "$ETCDCTL_MOD" "$ver"
	copy_replaces "$w" "$(mod_field "$mod" "$ver" GoMod)" go.etcd.io/etcd - go.etcd.io/tests/v3 - 'go.etcd.io/etcd/*' "$ver"
	gobuild "$w" "$out/" "-s -w" "$mod" "$ETCDCTL_MOD"
}

# ---------------------------------------------------------------- one component (child process)
# Writes "component|version|note|path|built-or-reused|seconds" to RESULT_FILE.
run_component() {
	local comp="$1" result_file="$2" start line mod ver label pkg note out w logf b status
	local -a bins
	mapfile -t bins < <(binaries_of "$comp")
	start="$(date +%s)"
	line="$(resolve "$comp" "$(wanted_of "$comp")")" || die "$comp: no version of it can be had from the Go module proxy (see messages above)"
	read -r mod ver label pkg note <<<"$line"
	out="$TC/$comp-$label"
	w="$WORK/$comp-$label"
	logf="$LOGS/$comp-$label.log"
	status=reused
	if [[ ! -f "$out/.built" ]]; then
		status=built
		log "$comp: building $mod@$ver ($label) -> $out (log: $logf)"
		rm -rf "$out"
		mkdir -p "$out"
		: >"$logf"
		# a child process, so that `set -e` holds inside the build steps
		if ! "$BASH" "$SELF" __build "$comp" "$mod" "$ver" "$label" "$pkg" "$out" "$w" >>"$logf" 2>&1; then
			tail -n 40 "$logf" >&2 || true
			die "$comp: go build of $mod@$ver failed; full log: $logf; throw-away module kept at $w"
		fi
		for b in "${bins[@]}"; do
			[[ -x "$out/$b" ]] || die "$comp: build finished but $out/$b is missing"
		done
		printf 'component=%s\nmodule=%s\nversion=%s\nlabel=%s\nbuilt=%s\n' "$comp" "$mod" "$ver" "$label" "$(date -u +%FT%TZ)" >"$out/.built"
		rm -rf "$w"
	fi
	# the stand-in stays in its own folder (HARDENED_RKE2_COMMAND_PROVIDER_DIR), off bin/
	[[ "$comp" == command-standin ]] || for b in "${bins[@]}"; do
		ln -sfn "$out/$b" "$BIN/$b"
	done
	printf '%s|%s|%s|%s|%s|%s\n' "$comp" "$label" "$note" "$out" "$status" "$(($(date +%s) - start))" >>"$result_file"
}

# The language host must sit next to the real pulumi binary: the CLI looks there for bundled
# plugins (dir of the symlink-resolved executable). It is hard-linked (or copied) there and
# bin/pulumi-language-nodejs points at that copy: if the PATH copy resolved to another file,
# the CLI would warn "using pulumi-language-nodejs from $PATH" on every run.
link_language_host() {
	local p l dest
	p="$(readlink -f "$BIN/pulumi" 2>/dev/null || true)"
	l="$(readlink -f "$BIN/pulumi-language-nodejs" 2>/dev/null || true)"
	[[ -n "$p" && -x "$p" && -n "$l" && -x "$l" ]] || return 0
	dest="$(dirname "$p")/pulumi-language-nodejs"
	if [[ "$l" != "$dest" ]]; then
		rm -f "$dest"
		ln "$l" "$dest" 2>/dev/null || cp "$l" "$dest"
	fi
	ln -sfn "$dest" "$BIN/pulumi-language-nodejs"
}

print_env() {
	# the folder as set in the environment, else the stand-in's (a plain path: the harness parses it)
	local cmd_dir="${HARDENED_RKE2_COMMAND_PROVIDER_DIR:-$TC/command-standin-$(wanted_of command-standin)}"
	cat <<EOF
# environment for the e2e harness (bash); the command provider comes from the one folder
# HARDENED_RKE2_COMMAND_PROVIDER_DIR names (default: the stand-in; a real build can be put there):
export HARDENED_RKE2_COMMAND_PROVIDER_DIR="$cmd_dir"
export PATH="$cmd_dir:$BIN:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE="\${PULUMI_CONFIG_PASSPHRASE:-e2e}"
# per test run: export PULUMI_HOME=<tmp>/pulumi-home; pulumi login file://<tmp>/state
EOF
}

main() {
	local -a comps=()
	local a comp result_file failed=0 t0 p
	for a in "$@"; do
		case "$a" in
		--print-env)
			print_env
			return 0
			;;
		-h | --help)
			sed -n '2,/^set -euo/{/^set -euo/!p;}' "$SELF"
			return 0
			;;
		*) comps+=("$a") ;;
		esac
	done
	((${#comps[@]})) || comps=("${ALL_COMPONENTS[@]}")
	for comp in "${comps[@]}"; do wanted_of "$comp" >/dev/null; done

	setup_go
	exec 9>"$TC/.lock"
	if ! flock -n 9; then
		log "another build.sh holds $TC/.lock; waiting for it"
		flock 9
	fi
	t0="$(date +%s)"
	result_file="$(mktemp)"
	# shellcheck disable=SC2064 # expand now: result_file is local
	trap "rm -f '$result_file'" EXIT
	# Two lanes side by side: the Pulumi CLI, its language host, etcd and the command-provider stand-in in one, the
	# Kubernetes provider (the longest build) and Kubernetes in the other (the cold `.ci/run` of 2026-12-07 16:35 UTC,
	# beside npm test for its first 12 min: the CLI took 19 min, the provider 27, the whole toolchain 36). A cold build is mostly one compile at a time with gaps
	# (module downloads, the provider's schema generation, single-threaded links) that the other lane fills; the Go
	# build and module caches are safe for concurrent use. TOOLCHAIN_LANES=1 builds one at a time, in the given order.
	local -a lane1=() lane2=() pids=()
	for comp in "${comps[@]}"; do
		case "$comp" in
		pulumi | language-nodejs | command-standin | command | etcd | etcd-tools) lane1+=("$comp") ;;
		*) lane2+=("$comp") ;;
		esac
	done
	build_lane() {
		local c
		for c in "$@"; do
			if ! "$BASH" "$SELF" __component "$c" "$result_file"; then
				printf '%s|%s|%s|%s|%s|%s\n' "$c" "-" "-" "-" "FAILED" "-" >>"$result_file"
			fi
		done
	}
	if [[ "${TOOLCHAIN_LANES:-2}" == 1 ]]; then
		build_lane "${comps[@]}"
	else
		((${#lane1[@]} == 0)) || {
			build_lane "${lane1[@]}" &
			pids+=("$!")
		}
		((${#lane2[@]} == 0)) || {
			build_lane "${lane2[@]}" &
			pids+=("$!")
		}
		for p in "${pids[@]}"; do wait "$p"; done
	fi
	grep -q '|FAILED|' "$result_file" && failed=1
	link_language_host

	printf '\n%-16s %-30s %-8s %6s  %s\n' COMPONENT VERSION STATUS SECONDS PATH
	local c v n p s secs
	while IFS='|' read -r c v n p s secs; do
		printf '%-16s %-30s %-8s %6s  %s\n' "$c" "$v" "$s" "$secs" "$p"
		[[ "$n" == "-" ]] || printf '%-16s   (%s)\n' "" "$n"
	done <"$result_file"
	rm -f "$result_file"
	printf '\nbin dir: %s (total %ss)\n' "$BIN" "$(($(date +%s) - t0))"
	print_env
	if ((failed)); then
		log "one or more components FAILED (see above)"
		return 1
	fi
}

if [[ "${1:-}" == __component ]]; then
	setup_go
	run_component "$2" "$3"
elif [[ "${1:-}" == __build ]]; then
	setup_go
	"build_$2" "${@:3}"
else
	main "$@"
fi
