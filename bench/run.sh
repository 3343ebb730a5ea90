#!/usr/bin/env bash
# Benchmarks the local stack (release build) with wrk over loopback, as a REST client sees it:
#   get   GET /api/users/{id}
#   post  POST /api/users (unique emails, bench/post_users.lua)
#   list  GET /api/users?page_size=10
# For each: req/s, p50, p99 from wrk --latency, and per process the CPU used during the run and
# the peak RSS. Results go to bench/results/<time>/ (raw wrk output) and a summary table on stdout.
#
# Settings (environment): THREADS=2 CONNS=64 DURATION=15s BENCH="get post list"
#   SEED_USERS=1000   users created before measuring (the list and get workloads read them)
#   SWITCHYARD_SKIP_BUILD=1  use build/release as it is
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
DURATION="${DURATION:-15s}"
BENCH="${BENCH:-get post list}"
SEED_USERS="${SEED_USERS:-1000}"
command -v wrk >/dev/null || { echo "bench: wrk not found; run 'make deps'" >&2; exit 1; }
if [[ "${SWITCHYARD_SKIP_BUILD:-}" != 1 && -z "${SWITCHYARD_BASE_URL:-}" ]]; then
  cmake --preset release -DSWITCHYARD_WERROR=OFF >/dev/null
  cmake --build --preset release
fi

# Under tests/support/with_stack.sh the stack runs on free ports; this script re-enters itself
# there to measure.
if [[ -z "${SWITCHYARD_BASE_URL:-}" ]]; then
  exec bash tests/support/with_stack.sh "$repo/build/release" bash "$0" "$@"
fi
base="$SWITCHYARD_BASE_URL"
run_dir="$SWITCHYARD_RUN_DIR"
results="$repo/bench/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

declare -A pid_of=(
  [gateway]="$(pgrep -f "^$SWITCHYARD_BUILD_DIR/gateway/gateway" | head -n1)"
  [user-service]="$(pgrep -f "^$SWITCHYARD_BUILD_DIR/user-service/user-service" | head -n1)"
  [redis]="$(pgrep -f "redis-server 127.0.0.1:$SWITCHYARD_REDIS_PORT" | head -n1)"
)
processes=(gateway user-service redis)
hz="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# Seed users so reads hit real data: short POST runs until Redis holds SEED_USERS of them.
user_count() {
  redis-cli -p "$SWITCHYARD_REDIS_PORT" -a "$(cat "$run_dir/redis.password")" --no-auth-warning \
    ZCARD sy:users:order
}
for _ in $(seq 20); do
  [[ "$(user_count)" -ge "$SEED_USERS" ]] && break
  wrk -t1 -c8 -d1s -s bench/post_users.lua "$base" -- seed >/dev/null
done
echo "bench: $(user_count) users stored"
user_id="$(curl -s "$base/api/users?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"][0]["id"])')"

summary="$results/summary.md"
{
  echo "| workload | req/s | p50 | p99 | gateway CPU | user-service CPU | redis CPU | gateway RSS MB | user-service RSS MB |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$summary"

for workload in $BENCH; do
  case "$workload" in
    get) args=("$base/api/users/$user_id") ;;
    post) args=(-s bench/post_users.lua "$base" -- run) ;;
    list) args=("$base/api/users?page_size=10") ;;
    *) echo "bench: unknown workload $workload" >&2; exit 1 ;;
  esac
  declare -A before=()
  for p in "${processes[@]}"; do before[$p]="$(cpu_ticks "${pid_of[$p]}")"; done
  start_ns="$(date +%s%N)"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}" >"$results/$workload.txt"
  elapsed_s="$(python3 -c "print(($(date +%s%N) - $start_ns) / 1e9)")"
  rps="$(awk '/^Requests\/sec/ { print $2 }' "$results/$workload.txt")"
  p50="$(awk '$1 == "50%" { print $2 }' "$results/$workload.txt")"
  p99="$(awk '$1 == "99%" { print $2 }' "$results/$workload.txt")"
  errors="$(grep -E 'Non-2xx|Socket errors' "$results/$workload.txt" || true)"
  row="| $workload | $rps | $p50 | $p99 |"
  for p in "${processes[@]}"; do
    used="$(( $(cpu_ticks "${pid_of[$p]}") - before[$p] ))"
    row+=" $(python3 -c "print(f'{$used / $hz / $elapsed_s * 100:.0f}%')") |"
  done
  row+=" $(peak_rss_mb "${pid_of[gateway]}") | $(peak_rss_mb "${pid_of[user-service]}") |"
  echo "$row" >>"$summary"
  [[ -z "$errors" ]] || echo "bench: $workload: $errors" >&2
done

echo "Switchyard, $(git rev-parse --short HEAD), $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION"
cat "$summary"
echo "raw output: ${results#"$repo"/}"
