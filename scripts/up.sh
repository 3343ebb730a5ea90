#!/usr/bin/env bash
# `make up`: builds the release preset and runs the whole stack on this machine, in the
# foreground: redis-server, user-service, data-service and the gateway as local processes. Every
# output line is prefixed with its process's name; Ctrl-C stops everything.
#
# Settings (environment):
#   SWITCHYARD_HTTP_PORT          gateway HTTP port; default 8080
#   SWITCHYARD_USER_SERVICE_PORT  user-service gRPC port; default 50051
#   SWITCHYARD_DATA_SERVICE_PORT  data-service gRPC port; default 50052
#   SWITCHYARD_REDIS_PORT         Redis port; default 6379, or the first free port above it
#   SWITCHYARD_GATEWAY_METRICS_PORT, SWITCHYARD_USER_SERVICE_METRICS_PORT,
#   SWITCHYARD_DATA_SERVICE_METRICS_PORT
#                                 Prometheus /metrics ports; default 9090, 9091 and 9092
#   SWITCHYARD_RUN_DIR            state directory; default .run (Redis AOF, the Redis password)
#   SWITCHYARD_BUILD_DIR          where the binaries are; default build/release
#   SWITCHYARD_SKIP_BUILD=1       run what is in the build directory without rebuilding
#   SWITCHYARD_LOG_DIR            write each process's output to DIR/NAME.log instead of here
#
# Redis always requires a password: one is generated into $SWITCHYARD_RUN_DIR/redis.password on
# first use and handed to the services through REDIS_PASSWORD (never on a command line).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

run_dir="${SWITCHYARD_RUN_DIR:-$repo/.run}"
build_dir="${SWITCHYARD_BUILD_DIR:-$repo/build/release}"
http_port="${SWITCHYARD_HTTP_PORT:-8080}"
grpc_port="${SWITCHYARD_USER_SERVICE_PORT:-50051}"
redis_port="${SWITCHYARD_REDIS_PORT:-}"
gateway_metrics_port="${SWITCHYARD_GATEWAY_METRICS_PORT:-9090}"
user_metrics_port="${SWITCHYARD_USER_SERVICE_METRICS_PORT:-9091}"
data_metrics_port="${SWITCHYARD_DATA_SERVICE_METRICS_PORT:-9092}"
data_port="${SWITCHYARD_DATA_SERVICE_PORT:-50052}"
user_service_bin="$build_dir/user-service/user-service"
data_service_bin="$build_dir/data-service/data-service"
gateway_bin="$build_dir/gateway/gateway"

die() {
  echo "up: error: $*" >&2
  exit 1
}

# True when something accepts connections on 127.0.0.1:PORT.
port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Copies stdin to stdout with "[NAME] " before each line, each line passed on as soon as it is
# complete. Not `sed -u`: that reads its input one byte per system call, which under load (an
# access line per request, ~20k lines/s) took a whole core of this 2-core machine.
prefix() {
  stdbuf -oL sed "s/^/[$1] /"
}

# Points fd `log_fd` at where process NAME's output goes: its own file under SWITCHYARD_LOG_DIR
# when that is set (as a container runtime keeps logs; the benchmark uses it), else this
# terminal, each line prefixed with [NAME].
open_log() {
  if [[ -n "${SWITCHYARD_LOG_DIR:-}" ]]; then
    exec {log_fd}>>"$SWITCHYARD_LOG_DIR/$1.log"
  else
    exec {log_fd}> >(prefix "$1")
  fi
}

# --- build and preflight ----------------------------------------------------------------------

if [[ "${SWITCHYARD_SKIP_BUILD:-}" != 1 ]]; then
  cmake --preset release -DSWITCHYARD_WERROR=OFF >/dev/null
  cmake --build --preset release
fi
for bin in "$user_service_bin" "$data_service_bin" "$gateway_bin"; do
  [[ -x "$bin" ]] || die "missing ${bin#"$repo"/}; build it with 'make release'"
done
command -v redis-server >/dev/null || die "redis-server not found; run 'make deps'"
command -v curl >/dev/null || die "curl not found; run 'make deps'"

port_taken "$http_port" &&
  die "port $http_port (gateway HTTP) is taken; free it or set SWITCHYARD_HTTP_PORT"
port_taken "$grpc_port" &&
  die "port $grpc_port (user-service gRPC) is taken; free it or set SWITCHYARD_USER_SERVICE_PORT"
port_taken "$data_port" &&
  die "port $data_port (data-service gRPC) is taken; free it or set SWITCHYARD_DATA_SERVICE_PORT"
port_taken "$data_metrics_port" &&
  die "port $data_metrics_port (data-service metrics) is taken; set SWITCHYARD_DATA_SERVICE_METRICS_PORT"
port_taken "$gateway_metrics_port" &&
  die "port $gateway_metrics_port (gateway metrics) is taken; set SWITCHYARD_GATEWAY_METRICS_PORT"
port_taken "$user_metrics_port" &&
  die "port $user_metrics_port (user-service metrics) is taken; set SWITCHYARD_USER_SERVICE_METRICS_PORT"
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

mkdir -p "$run_dir/redis"
password_file="$run_dir/redis.password"
if [[ ! -s "$password_file" ]]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$password_file")
fi
redis_password="$(cat "$password_file")"

# --- run --------------------------------------------------------------------------------------

pids=()
stop_all() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    echo "up: stopping"
    # The gateway first, so it drains before its upstreams go away.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
      kill -TERM "${pids[i]}" 2>/dev/null || true
      wait "${pids[i]}" 2>/dev/null || true
    done
  fi
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

open_log redis
# The password reaches redis-server through its config on stdin, not its command line.
printf 'requirepass %s\n' "$redis_password" |
  redis-server - --bind 127.0.0.1 --port "$redis_port" --dir "$run_dir/redis" \
    --appendonly yes --save '' --logfile '' >&"$log_fd" 2>&1 &
pids+=("$!")

for _ in $(seq 100); do
  port_taken "$redis_port" && break
  kill -0 "${pids[0]}" 2>/dev/null || die "redis-server exited during startup (see [redis] lines)"
  sleep 0.05
done
port_taken "$redis_port" || die "redis-server did not listen on $redis_port within 5 s"

open_log user-service
REDIS_ADDR="127.0.0.1:$redis_port" REDIS_PASSWORD="$redis_password" \
  GRPC_LISTEN="127.0.0.1:$grpc_port" METRICS_LISTEN="127.0.0.1:$user_metrics_port" \
  "$user_service_bin" >&"$log_fd" 2>&1 &
pids+=("$!")

open_log data-service
REDIS_ADDR="127.0.0.1:$redis_port" REDIS_PASSWORD="$redis_password" \
  GRPC_LISTEN="127.0.0.1:$data_port" METRICS_LISTEN="127.0.0.1:$data_metrics_port" \
  USER_SERVICE_ADDR="127.0.0.1:$grpc_port" \
  "$data_service_bin" >&"$log_fd" 2>&1 &
pids+=("$!")

open_log gateway
HTTP_LISTEN="127.0.0.1:$http_port" METRICS_LISTEN="127.0.0.1:$gateway_metrics_port" \
  USER_SERVICE_ADDR="127.0.0.1:$grpc_port" DATA_SERVICE_ADDR="127.0.0.1:$data_port" \
  "$gateway_bin" >&"$log_fd" 2>&1 &
pids+=("$!")

# Ready when the gateway says every upstream is SERVING (bounded: 30 s).
ready=0
for _ in $(seq 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$http_port/health/ready" 2>/dev/null; then
    ready=1
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "a process exited during startup (see its lines above)"
  done
  sleep 0.1
done
((ready)) || die "the stack did not become ready within 30 s (see the lines above)"

cat <<MSG
up: ready at http://127.0.0.1:$http_port  (Ctrl-C stops everything)
up: try:
  curl -s -X POST http://127.0.0.1:$http_port/api/users -H 'Content-Type: application/json' \\
       -d '{"name":"Ada","email":"ada@example.com"}'
  curl -s http://127.0.0.1:$http_port/api/users
  curl -s -X PUT http://127.0.0.1:$http_port/api/data/settings/theme \
       -H 'Content-Type: application/json' -d '{"value":"dark"}'
  curl -s -X POST http://127.0.0.1:$http_port/api/jobs -H 'Content-Type: application/json' \
       -d '{"type":"users.report"}'
  open http://127.0.0.1:$http_port/ for the console
  grpcurl -plaintext 127.0.0.1:$grpc_port list     # user-service
  grpcurl -plaintext 127.0.0.1:$data_port list     # data-service
MSG

# When any process ends on its own, stop the others and report it.
status=0
wait -n "${pids[@]}" || status=$?
echo "up: a process exited (status $status); stopping the rest" >&2
exit 1
