#!/usr/bin/env bash
# The coroutine bridge against a raw CompletionQueue server doing the same GetUser work
# (bench/grpc_bridge_bench.cpp), in alternating pairs (raw, bridge, raw, bridge, ...) under
# bench/grpc_load.cpp (LOAD=ghz for ghz): 64 concurrent calls on one connection. ghz takes ~1.2
# of this machine's 2 cores itself and so hides much of the difference between the two servers.
# Reports per pair the req/s and the server's CPU time per call, and the median ratios
# bridge/raw (req/s) and raw/bridge (CPU per call: 1.0 = the bridge costs nothing). Results:
# bench/results/bridge-<time>/.
#
# Settings (environment): ROUNDS=5 DURATION=15s CONNS=64 LOAD=grpc-load|ghz
# SWITCHYARD_SKIP_BUILD=1
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib.sh
source "$repo/bench/lib.sh"
cd "$repo"
export PATH="$repo/.tools/bin:$PATH"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-15s}"
CONNS="${CONNS:-64}"
LOAD="${LOAD:-grpc-load}"
case "$LOAD" in
  grpc-load) ;;
  ghz)
    command -v ghz >/dev/null || { echo "bridge: ghz not found; run 'make deps'" >&2; exit 1; }
    ;;
  *) echo "bridge: LOAD is grpc-load or ghz, not $LOAD" >&2; exit 1 ;;
esac
if [[ "${SWITCHYARD_SKIP_BUILD:-}" != 1 ]]; then
  cmake --preset release -DSWITCHYARD_WERROR=OFF >/dev/null
  cmake --build --preset release --target grpc-bridge-bench grpc-load
fi
bin="$repo/build/release/bench/grpc-bridge-bench"
load_bin="$repo/build/release/bench/grpc-load"
user_id=00000000-0000-4000-8000-000000000001
googleapis=/usr/share/gocode/src/github.com/gogo/googleapis
results="$repo/bench/results/bridge-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_one MODE ROUND: one server, one load run; appends
# "MODE ROUND rps cpu_us_per_call switches_per_call" to rows.
run_one() {
  local mode=$1 round=$2 port pid t0 t1 s0 s1
  port="$(free_port)"
  "$bin" --mode="$mode" --port="$port" >"$results/$mode-$round.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q 'on port' "$results/$mode-$round.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$results/$mode-$round.log" >&2; exit 1; }
    sleep 0.05
  done
  t0="$(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
  s0="$(context_switches "$pid")"
  if [[ "$LOAD" == ghz ]]; then
    ghz --insecure --proto proto/switchyard/user/v1/user_service.proto -i "proto,$googleapis" \
      --call switchyard.user.v1.UserService/GetUser -d "{\"id\":\"$user_id\"}" \
      -c "$CONNS" --connections 1 -z "$DURATION" -O json "127.0.0.1:$port" \
      >"$results/$mode-$round.json"
  else
    "$load_bin" --target="127.0.0.1:$port" --method=/switchyard.user.v1.UserService/GetUser \
      --id="$user_id" --concurrency="$CONNS" --duration="$DURATION" >"$results/$mode-$round.json"
  fi
  t1="$(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
  s1="$(context_switches "$pid")"
  kill -TERM "$pid"
  wait "$pid" || true
  python3 - "$results/$mode-$round.json" "$((t1 - t0))" "$(getconf CLK_TCK)" "$mode" "$round" \
    "$((s1 - s0))" >>"$results/rows.txt" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
if "statusCodeDistribution" in report:  # ghz
    ok = report["statusCodeDistribution"].get("OK", 0)
else:  # grpc-load
    ok = report["requests"]
cpu_us = int(sys.argv[2]) / float(sys.argv[3]) / max(ok, 1) * 1e6
switches = int(sys.argv[6]) / max(ok, 1)
print(sys.argv[4], sys.argv[5], round(report["rps"]), f"{cpu_us:.1f}", f"{switches:.3f}")
PY
}

for round in $(seq "$ROUNDS"); do
  run_one raw "$round"
  run_one bridge "$round"
  echo "bridge: round $round/$ROUNDS: $(tail -n2 "$results/rows.txt" | tr '\n' ' ')" >&2
done

python3 - "$results/rows.txt" <<'PY' | tee "$results/summary.md"
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
raw = {r[1]: tuple(map(float, r[2:5])) for r in rows if r[0] == "raw"}
bridge = {r[1]: tuple(map(float, r[2:5])) for r in rows if r[0] == "bridge"}
pairs = [(raw[k], bridge[k]) for k in raw if k in bridge]
print("| pair | raw req/s | bridge req/s | raw CPU us/call | bridge CPU us/call "
      "| raw switches/call | bridge switches/call |")
print("|---|---|---|---|---|---|---|")
for i, (r, b) in enumerate(pairs, 1):
    print(f"| {i} | {r[0]:.0f} | {b[0]:.0f} | {r[1]} | {b[1]} | {r[2]:.3f} | {b[2]:.3f} |")
print()
print(f"median req/s ratio bridge/raw: {statistics.median(b[0] / r[0] for r, b in pairs):.2f}")
print(f"median CPU-per-call ratio raw/bridge: {statistics.median(r[1] / b[1] for r, b in pairs):.2f}")
print(f"median context switches per call, bridge: {statistics.median(b[2] for r, b in pairs):.3f}")
PY
