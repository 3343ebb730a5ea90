#!/usr/bin/env bash
# Validates the gateway's OpenAPI document with kin-openapi (tools/openapi-check, built here with
# go build into BUILD_DIR; its module downloads through the Go module proxy on the first run).
#
#   tests/contract/openapi_check.sh BUILD_DIR DOCUMENT [-- PRODUCER_COMMAND...]
#
# With a producer command, DOCUMENT is removed, then made by running the command with
# SWITCHYARD_OPENAPI_OUT=DOCUMENT (ctest's contract.openapi_valid runs the unit test that writes
# it); otherwise DOCUMENT must exist already (e.g. saved from GET /openapi.json).
set -euo pipefail

usage="usage: openapi_check.sh BUILD_DIR DOCUMENT [-- PRODUCER_COMMAND...]"
build_dir="$(cd "${1:?$usage}" && pwd)"
document="${2:?$usage}"
shift 2
if (($# > 0)); then
  [[ "$1" == "--" && $# -gt 1 ]] || { echo "$usage" >&2; exit 2; }
  shift
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

go_bin="$(command -v go || true)"
if [[ -z "$go_bin" && -x /usr/local/go/bin/go ]]; then
  go_bin=/usr/local/go/bin/go
fi
if [[ -z "$go_bin" ]]; then
  echo "openapi_check: go not found on PATH or at /usr/local/go/bin (scripts/deps.sh needs it too)" >&2
  exit 1
fi
# Go keeps its caches under $HOME; give it a place when a test runner clears HOME.
if [[ -z "${HOME:-}" ]]; then
  export GOCACHE="${GOCACHE:-$build_dir/go/cache}" GOPATH="${GOPATH:-$build_dir/go/path}"
fi

checker="$build_dir/tools/openapi-check/openapi-check"
(cd "$repo/tools/openapi-check" && "$go_bin" build -buildvcs=false -o "$checker" .)

if (($# > 0)); then
  rm -f "$document"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! SWITCHYARD_OPENAPI_OUT="$document" "$@" >"$log" 2>&1; then
    echo "openapi_check: the producer failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
fi
if [[ ! -s "$document" ]]; then
  echo "openapi_check: no document at $document" >&2
  exit 1
fi

# The checker must be able to fail: a path parameter the path does not declare is an error.
broken='{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{
  "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok"}}}}}}'
if "$checker" - <<<"$broken" >/dev/null 2>&1; then
  echo "openapi_check: $checker accepted a broken document" >&2
  exit 1
fi

"$checker" "$document"
