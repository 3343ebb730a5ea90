#!/usr/bin/env bash
# The snapshot Dockerfile.multi builds from (docker/lib.sh build_context_tar, filtered by
# .dockerignore) configures as the test image configures it: a source the build reads but the
# snapshot leaves out fails here in seconds, not after docker.compose's image builds.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log_prefix=docker-context
# shellcheck source-path=SCRIPTDIR source=../../docker/lib.sh
source "$repo/docker/lib.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-context-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
build_context_tar "$repo" "$work/context.tar"
mkdir "$work/src"
tar -C "$work/src" -xf "$work/context.tar"
# The same flags as the test stage of Dockerfile.multi; configuring is all that is checked.
if ! CMAKE_CXX_COMPILER_LAUNCHER= cmake -S "$work/src" --preset release -DSWITCHYARD_TESTS=ON \
  -DSWITCHYARD_BENCH=OFF >"$work/configure.log" 2>&1; then
  cat "$work/configure.log" >&2
  die "the Docker build context does not configure: a file the build reads is missing from it" \
    "(add a \`!\` line to .dockerignore, or narrow the exclusion that drops it)"
fi
log "the Docker build context ($(tar -tf "$work/context.tar" | wc -l) entries) configures"
