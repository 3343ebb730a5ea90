#!/usr/bin/env bash
# Runs a command against the whole stack as `make up` runs it: scripts/up.sh starts Redis, the
# services and the gateway from BUILD_DIR's binaries on free ports with a throwaway state dir;
# the command runs with SWITCHYARD_BASE_URL set to the gateway; then the stack is stopped.
#
#   tests/support/with_stack.sh BUILD_DIR COMMAND [ARG...]
set -euo pipefail

build_dir="$(cd "${1:?usage: with_stack.sh BUILD_DIR COMMAND...}" && pwd)"
shift
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_dir="$(mktemp -d)"
export SWITCHYARD_RUN_DIR="$run_dir"
export SWITCHYARD_BUILD_DIR="$build_dir"
export SWITCHYARD_SKIP_BUILD=1
for name in HTTP_PORT USER_SERVICE_PORT DATA_SERVICE_PORT REDIS_PORT GATEWAY_METRICS_PORT \
  USER_SERVICE_METRICS_PORT DATA_SERVICE_METRICS_PORT; do
  export "SWITCHYARD_$name=$(free_port)"
done
export SWITCHYARD_BASE_URL="http://127.0.0.1:$SWITCHYARD_HTTP_PORT"

bash "$repo/scripts/up.sh" >"$run_dir/up.log" 2>&1 &
up_pid=$!
cleanup() {
  kill -TERM "$up_pid" 2>/dev/null || true
  wait "$up_pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

# Bounded wait for up.sh's ready line (it waits for /health/ready itself).
for _ in $(seq 600); do
  grep -q '^up: ready' "$run_dir/up.log" && break
  if ! kill -0 "$up_pid" 2>/dev/null; then
    echo "with_stack: the stack did not start:" >&2
    cat "$run_dir/up.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! grep -q '^up: ready' "$run_dir/up.log"; then
  echo "with_stack: the stack was not ready within 60 s:" >&2
  cat "$run_dir/up.log" >&2
  exit 1
fi

status=0
"$@" || status=$?
if ((status != 0)); then
  echo "--- stack output (last 60 lines) ---" >&2
  tail -n 60 "$run_dir/up.log" >&2
fi
exit "$status"
