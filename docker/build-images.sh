#!/usr/bin/env bash
# Builds every image compose.yaml runs, with no registry: the Debian bases and Redis
# (docker/build-base-image.sh), then each Dockerfile.multi target, tagged
#
#   switchyard/builder:TAG       the build tree (kept tagged so `docker image prune` keeps the cache)
#   switchyard/gateway:TAG, switchyard/user-service:TAG, switchyard/data-service:TAG
#   switchyard/test:TAG          only built (and its unit tests run) when `test` is asked for
#
#   docker/build-images.sh [TARGET...]    default: builder gateway user-service data-service test
#
# Settings (environment): SWITCHYARD_IMAGE_TAG (default `local`), JOBS (compile jobs, default 2),
# VERBOSE=1 (stream build output; it always goes to build/docker/TARGET.log), FORCE=1 (remake the
# Debian bases). Unchanged inputs make every step a layer-cache hit.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log_prefix=images
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$repo/docker/lib.sh"

tag="${SWITCHYARD_IMAGE_TAG:-local}"
targets=("$@")
((${#targets[@]})) || targets=(builder gateway user-service data-service test)
for target in "${targets[@]}"; do
  case "$target" in
    builder | gateway | user-service | data-service | test) ;;
    *) die "unknown target '$target' (builder, gateway, user-service, data-service, test)" ;;
  esac
done

docker_reachable || die "no Docker engine answers ('docker info' failed)"
bash "$repo/docker/build-base-image.sh"

# One snapshot of the sources feeds every target, so all images come from the same tree even
# while files change, and each build after the first is a cache hit (docker/lib.sh).
context="$(mktemp "${TMPDIR:-/tmp}/switchyard-context.XXXXXX")"
trap 'rm -f "$context"' EXIT
build_context_tar "$repo" "$context"

mapfile -t add_hosts < <(mirror_add_host_args)
for target in "${targets[@]}"; do
  log "building switchyard/$target:$tag"
  docker_build "$target" "${add_hosts[@]}" --build-arg "JOBS=${JOBS:-2}" \
    -f Dockerfile.multi --target "$target" -t "switchyard/$target:$tag" - <"$context"
done
prune_replaced_images
