#!/usr/bin/env bash
# Lays out the third-party protos that buf.yaml expects, as symlinks into Debian's packages:
#
#   ROOT/.tools/protodeps/googleapis/google/api -> .../gogo/googleapis/google/api
#   ROOT/.tools/protodeps/googleapis/google/rpc -> .../gogo/googleapis/google/rpc
#
# Nothing is copied: .tools/ is gitignored and the files stay owned by their package
# (golang-github-gogo-googleapis-dev). google/protobuf/* needs no link, buf ships it.
# Only google/api and google/rpc are linked, so buf never sees the rest of that package.
#
# Usage: scripts/protodeps.sh [ROOT]   (ROOT defaults to this repository)
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
googleapis="${SWITCHYARD_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}"

for sub in api rpc; do
  if [[ ! -d "$googleapis/google/$sub" ]]; then
    echo "protodeps: $googleapis/google/$sub is missing; run 'make deps'" >&2
    exit 1
  fi
done

dest="$root/.tools/protodeps/googleapis/google"
mkdir -p "$dest"
for sub in api rpc; do
  ln -sfn "$googleapis/google/$sub" "$dest/$sub"
done
