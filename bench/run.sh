#!/usr/bin/env bash
# Benchmarks the local stack (release build, started by tests/support/with_stack.sh as `make up`
# runs it) over loopback:
#   get   wrk: GET /api/users/{id}
#   post  wrk: POST /api/users (unique emails, bench/post_users.lua; the Lua create script)
#   list  wrk: GET /api/users?page_size=10
#   grpc  ghz: switchyard.user.v1.UserService/GetUser straight at the user-service
#   grpc-light  the same calls from bench/grpc_load.cpp, a client light enough that the server,
#         not the load tool, sets the rate (ghz alone takes ~1.2 of this machine's 2 cores)
# For each: req/s, p50, p99, and per process the CPU it used during the run (% of one core) and
# its peak RSS. Results go to bench/results/<time>/: raw tool output, summary.md and
# results.json (read by bench/compare.py). The machine and the commit are recorded with them.
#
# Settings (environment):
#   THREADS=2 CONNS=64 DURATION=15s   wrk -t/-c/-d; ghz uses CONNS concurrent calls, 1 connection
#   BENCH="get post list grpc grpc-light"   which workloads, in order
#   SEED_USERS=1000                   users stored before measuring (created through the
#                                     user-service's CreateUser by ghz; 1000000 takes ~2 min)
#   RESULTS=dir                       where results go (default bench/results/<time>)
#   SWITCHYARD_SKIP_BUILD=1           use build/release as it is
#   PROFILE="gateway user-service"    also sample these processes' CPU with `perf record` during
#                                     each workload (software clock, so it works without hardware
#                                     counters); the top of each profile goes to
#                                     <workload>.<process>.perf.txt. Profiling costs CPU: the
#                                     req/s of such a run are not comparable with others.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="$repo/.tools/bin:$PATH"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
DURATION="${DURATION:-15s}"
BENCH="${BENCH:-get post list grpc grpc-light}"
SEED_USERS="${SEED_USERS:-1000}"
for tool in wrk ghz redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found; run 'make deps'" >&2; exit 1; }
done
if [[ "${SWITCHYARD_SKIP_BUILD:-}" != 1 && -z "${SWITCHYARD_BASE_URL:-}" ]]; then
  cmake --preset release -DSWITCHYARD_WERROR=OFF >/dev/null
  cmake --build --preset release
fi

# Under tests/support/with_stack.sh the stack runs on free ports, its logs written to files the
# way a container runtime keeps them; this script re-enters itself there to measure.
if [[ -z "${SWITCHYARD_BASE_URL:-}" ]]; then
  export SWITCHYARD_LOG_DIR="${SWITCHYARD_LOG_DIR:-$(mktemp -d)}"
  exec bash tests/support/with_stack.sh "$repo/build/release" bash "$0" "$@"
fi
base="$SWITCHYARD_BASE_URL"
grpc_addr="127.0.0.1:$SWITCHYARD_USER_SERVICE_PORT"
run_dir="$SWITCHYARD_RUN_DIR"
results="${RESULTS:-$repo/bench/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$results"

# The stack's processes, told apart from any other copy running (`make up` in another terminal)
# by the listen address in their environment.
pid_listening() {
  local binary=$1 setting=$2 pid
  for pid in $(pgrep -f "^$binary"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "$setting"; then
      echo "$pid"
      return
    fi
  done
  echo "bench: no $binary with $setting" >&2
  exit 1
}
declare -A pid_of=(
  [gateway]="$(pid_listening "$SWITCHYARD_BUILD_DIR/gateway/gateway" \
    "HTTP_LISTEN=127.0.0.1:$SWITCHYARD_HTTP_PORT")"
  [user-service]="$(pid_listening "$SWITCHYARD_BUILD_DIR/user-service/user-service" \
    "GRPC_LISTEN=127.0.0.1:$SWITCHYARD_USER_SERVICE_PORT")"
  [redis]="$(pgrep -f "redis-server 127.0.0.1:$SWITCHYARD_REDIS_PORT" | head -n1)"
)
processes=(gateway user-service redis)
hz="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# shellcheck source=lib.sh
source "$repo/bench/lib.sh"
peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

redis() {
  redis-cli -p "$SWITCHYARD_REDIS_PORT" -a "$(cat "$run_dir/redis.password")" --no-auth-warning "$@"
}
user_count() { redis ZCARD sy:users:order; }

# Seed through the service itself (the same Lua script a POST runs), as fast as gRPC allows.
have="$(user_count)"
if ((have < SEED_USERS)); then
  echo "bench: creating $((SEED_USERS - have)) users" >&2
  ghz --insecure --call switchyard.user.v1.UserService/CreateUser \
    -d '{"name":"Seed {{.RequestNumber}}","email":"seed-{{.UUID}}@bench.example"}' \
    -n "$((SEED_USERS - have))" -c 32 --connections 1 -O json "$grpc_addr" >"$results/seed.json"
fi
echo "bench: $(user_count) users stored" >&2
user_id="$(curl -s "$base/api/users?page_size=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["users"][0]["id"])')"

{
  echo "commit: $(git describe --always --dirty)"
  echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(uname -sr), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)"
  echo "users stored: $(user_count); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency;" \
    "ghz and grpc-load -c $CONNS, 1 connection, $DURATION"
  echo
  echo "| workload | req/s | p50 ms | p99 ms | errors | client CPU | gateway CPU | user-service CPU | redis CPU | gateway peak RSS MB | user-service peak RSS MB | gateway switches/req | user-service switches/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$results/summary.md"

# One row of numbers per workload, read back by the summary and results.json.
rows="$results/rows.tsv"
: >"$rows"
for workload in $BENCH; do
  case "$workload" in
    get) cmd=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$base/api/users/$user_id") ;;
    post)
      cmd=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/post_users.lua "$base"
        -- run)
      ;;
    list) cmd=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$base/api/users?page_size=10") ;;
    grpc)
      cmd=(ghz --insecure --call switchyard.user.v1.UserService/GetUser -d "{\"id\":\"$user_id\"}"
        -c "$CONNS" --connections 1 -z "$DURATION" -O json "$grpc_addr")
      ;;
    grpc-light)
      cmd=("$repo/build/release/bench/grpc-load" --target="$grpc_addr"
        --method=/switchyard.user.v1.UserService/GetUser --id="$user_id" --concurrency="$CONNS"
        --duration="$DURATION")
      ;;
    *) echo "bench: unknown workload $workload" >&2; exit 1 ;;
  esac
  declare -A before=()
  for p in "${processes[@]}"; do before[$p]="$(cpu_ticks "${pid_of[$p]}")"; done
  switches_before=("$(context_switches "${pid_of[gateway]}")"
    "$(context_switches "${pid_of[user-service]}")")
  profilers=()
  for p in ${PROFILE:-}; do
    perf record -e cpu-clock -F 999 -p "${pid_of[$p]}" -o "$results/$workload.$p.perf.data" \
      2>"$results/$workload.$p.perf.log" &
    profilers+=("$!")
  done
  start_ns="$(date +%s%N)"
  TIMEFORMAT='%U %S'
  { time "${cmd[@]}" >"$results/$workload.txt"; } 2>"$results/$workload.time"
  for profiler in "${profilers[@]}"; do
    kill -INT "$profiler"
    wait "$profiler" || true
  done
  for p in ${PROFILE:-}; do
    perf report -i "$results/$workload.$p.perf.data" --percent-limit 0.3 --stdio --sort dso,symbol \
      2>/dev/null | grep -v '^$' | head -n 400 >"$results/$workload.$p.perf.txt"
  done
  elapsed_s="$(python3 -c "print(($(date +%s%N) - $start_ns) / 1e9)")"
  cpu=()
  for p in "${processes[@]}"; do cpu+=("$(($(cpu_ticks "${pid_of[$p]}") - before[$p]))"); done
  switches=("$(($(context_switches "${pid_of[gateway]}") - switches_before[0]))"
    "$(($(context_switches "${pid_of[user-service]}") - switches_before[1]))")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$elapsed_s" \
    "$(tail -n1 "$results/$workload.time")" "${cpu[0]}" "${cpu[1]}" "${cpu[2]}" \
    "$(peak_rss_mb "${pid_of[gateway]}")" "$(peak_rss_mb "${pid_of[user-service]}")" "$hz" \
    "$results/$workload.txt" "${switches[0]}" "${switches[1]}" >>"$rows"
done

python3 bench/summarize.py "$rows" "$results"
cat "$results/summary.md"
echo "raw output: $results"
