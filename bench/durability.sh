#!/usr/bin/env bash
# What durability mode costs: a primary and a replica (redis-server on free loopback ports, AOF
# everysec as in the images), then redis-durability-bench with writes acknowledged by the primary
# alone and after WAIT 1, alternating, ROUNDS times each. One JSON line per run.
#
#   bash bench/durability.sh [BUILD_DIR]     default build/release (build/dev works too)
#   CLIENTS=32 SECONDS=5 ROUNDS=3
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build/release}"
bench="$build/bench/redis-durability-bench"
[[ -x "$bench" ]] || { echo "durability: $bench not built" >&2; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
answers() { [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]]; }
wait_until() {  # bounded poll of a condition
  local tries=200
  until "$@"; do
    ((--tries > 0)) || { echo "durability: timed out waiting for: $*" >&2; exit 1; }
    sleep 0.05
  done
}

primary="$(free_port)"
replica="$(free_port)"
for port in "$primary" "$replica"; do
  mkdir -p "$work/$port"
  args=(--port "$port" --bind 127.0.0.1 --dir "$work/$port" --appendonly yes
        --appendfsync everysec --save "" --logfile "$work/$port/redis.log")
  [[ "$port" == "$replica" ]] && args+=(--replicaof 127.0.0.1 "$primary")
  redis-server "${args[@]}" &
  pids+=($!)
  wait_until answers "$port"
done
online() { redis-cli -p "$primary" info replication | grep -q 'state=online'; }
wait_until online

for ((round = 0; round < ${ROUNDS:-3}; round++)); do
  for acks in 0 1; do
    "$bench" --port="$primary" --clients="${CLIENTS:-32}" --seconds="${SECONDS_PER_RUN:-5}" \
      --acks="$acks"
  done
done
