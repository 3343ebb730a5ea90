#!/usr/bin/env bash
# The REST contract against the stack as `make up` runs it: scripts/up.sh starts redis-server,
# user-service and the gateway (binaries from BUILD_DIR, free ports, a throwaway state dir), the
# data-driven cases in tests/contract/cases run against the gateway, then the stack is stopped.
#
#   tests/contract/contract_test.sh BUILD_DIR
set -euo pipefail

build_dir="$(cd "${1:?usage: contract_test.sh BUILD_DIR}" && pwd)"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_dir="$(mktemp -d)"
export SWITCHYARD_RUN_DIR="$run_dir"
export SWITCHYARD_BUILD_DIR="$build_dir"
export SWITCHYARD_SKIP_BUILD=1
SWITCHYARD_HTTP_PORT="$(free_port)"
SWITCHYARD_USER_SERVICE_PORT="$(free_port)"
SWITCHYARD_REDIS_PORT="$(free_port)"
SWITCHYARD_GATEWAY_METRICS_PORT="$(free_port)"
SWITCHYARD_USER_SERVICE_METRICS_PORT="$(free_port)"
export SWITCHYARD_HTTP_PORT SWITCHYARD_USER_SERVICE_PORT SWITCHYARD_REDIS_PORT
export SWITCHYARD_GATEWAY_METRICS_PORT SWITCHYARD_USER_SERVICE_METRICS_PORT

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
    echo "contract: the stack did not start:" >&2
    cat "$run_dir/up.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! grep -q '^up: ready' "$run_dir/up.log"; then
  echo "contract: the stack was not ready within 60 s:" >&2
  cat "$run_dir/up.log" >&2
  exit 1
fi

status=0
python3 "$repo/tests/contract/run_contract.py" \
  --base-url "http://127.0.0.1:$SWITCHYARD_HTTP_PORT" || status=$?
if ((status != 0)); then
  echo "--- stack output ---" >&2
  tail -n 60 "$run_dir/up.log" >&2
fi
exit "$status"
