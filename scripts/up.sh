#!/usr/bin/env bash
# `make up`: builds the release preset and runs the stack on this machine, in the foreground.
# Each process's output lines are prefixed with its name; Ctrl-C stops everything.
#
# For now the stack is redis-server plus user-service; the gateway joins it later.
#
# Settings (environment):
#   SWITCHYARD_REDIS_PORT         Redis port; default: 6379, or the first free port above it
#   SWITCHYARD_USER_SERVICE_PORT  user-service gRPC port; default 50051
#   SWITCHYARD_SKIP_BUILD=1       run what is in build/release without rebuilding
#
# State lives in .run/ (gitignored): Redis keeps its append-only file in .run/redis, so users
# survive a restart. `make clean` removes it.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

run_dir="$repo/.run"
user_service_bin="$repo/build/release/user-service/user-service"
grpc_port="${SWITCHYARD_USER_SERVICE_PORT:-50051}"
redis_port="${SWITCHYARD_REDIS_PORT:-}"

die() {
  echo "up: error: $*" >&2
  exit 1
}

# True when something accepts connections on 127.0.0.1:PORT.
port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Copies stdin to stdout with "[NAME] " before each line, unbuffered.
prefix() {
  sed -u "s/^/[$1] /"
}

# --- build and preflight ----------------------------------------------------------------------

if [[ "${SWITCHYARD_SKIP_BUILD:-}" != 1 ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release
fi
[[ -x "$user_service_bin" ]] ||
  die "missing ${user_service_bin#"$repo"/}; build it with 'make release'"
command -v redis-server >/dev/null || die "redis-server not found; run 'make deps'"

port_taken "$grpc_port" &&
  die "port $grpc_port (user-service gRPC) is taken; free it or set SWITCHYARD_USER_SERVICE_PORT"
if [[ -n "$redis_port" ]]; then
  port_taken "$redis_port" && die "port $redis_port (SWITCHYARD_REDIS_PORT) is taken"
else
  for candidate in $(seq 6379 6479); do
    if ! port_taken "$candidate"; then
      redis_port="$candidate"
      break
    fi
  done
  [[ -n "$redis_port" ]] || die "no free port for Redis in 6379-6479; set SWITCHYARD_REDIS_PORT"
fi

# --- run --------------------------------------------------------------------------------------

pids=()
stop_all() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    echo "up: stopping"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

mkdir -p "$run_dir/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$run_dir/redis" \
  --appendonly yes --save '' --logfile '' > >(prefix redis) 2>&1 &
pids+=("$!")

# Bounded wait until Redis answers, so user-service starts against a live store.
for _ in $(seq 50); do
  port_taken "$redis_port" && break
  kill -0 "${pids[0]}" 2>/dev/null || die "redis-server exited during startup (see [redis] lines)"
  sleep 0.1
done
port_taken "$redis_port" || die "redis-server did not listen on $redis_port within 5 s"

# REDIS_ADDR and GRPC_LISTEN are the names user-service/main.cpp reads today; the SWITCHYARD_
# spelling is the agreed one. Both are set until the code settles on one.
SWITCHYARD_REDIS_ADDR="127.0.0.1:$redis_port" REDIS_ADDR="127.0.0.1:$redis_port" \
  SWITCHYARD_GRPC_LISTEN="127.0.0.1:$grpc_port" GRPC_LISTEN="127.0.0.1:$grpc_port" \
  "$user_service_bin" > >(prefix user-service) 2>&1 &
pids+=("$!")

echo "up: redis on 127.0.0.1:$redis_port, user-service gRPC on 127.0.0.1:$grpc_port; Ctrl-C stops"
echo "up: try: grpcurl -plaintext 127.0.0.1:$grpc_port list"

# When either process ends on its own, stop the other and report it.
status=0
wait -n "${pids[@]}" || status=$?
echo "up: a process exited (status $status); stopping the rest" >&2
exit 1
