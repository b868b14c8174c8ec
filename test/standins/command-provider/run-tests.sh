#!/usr/bin/env bash
# Runs the command-provider stand-in's Go tests with the Go caches of e2e/toolchain/build.sh.
# The tests start a private sshd on 127.0.0.1 and log in as root: run as root, with
# openssh-server installed (Debian: apt-get install openssh-server openssh-sftp-server).
# Extra arguments go to `go test` (e.g. -run TestCopyToRemote -v).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
TC="${HARDENED_RKE2_CACHE:-$HOME/.cache/hardened-rke2}/toolchain"
GO="${GO:-$(command -v go || printf '%s' /usr/local/go/bin/go)}"
export GOMODCACHE="$TC/go/pkg/mod" GOCACHE="$TC/go/build-cache" GOPATH="$TC/go"
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -modcacherw"
exec "$GO" test -count=1 -timeout 600s "$@" ./...
