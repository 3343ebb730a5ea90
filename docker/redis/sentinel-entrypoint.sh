#!/bin/bash
# Starts a Redis Sentinel for compose's `ha` profile. It writes /data/sentinel.conf once (the
# sentinel rewrites that file as it learns the topology, so a restarted sentinel keeps what it
# knew) and runs `redis-server /data/sentinel.conf --sentinel`. Passwords come from the
# environment and go only into that file (mode 600), never onto a command line:
#
#   REDIS_PASSWORD            the Redis nodes' password (sentinel auth-pass)
#   REDIS_SENTINEL_PASSWORD   this sentinel's own password (requirepass; the sentinels share it)
#   SENTINEL_MASTER           master name (default switchyard)
#   SENTINEL_MONITOR          the primary to start from, host:port (default redis-1:6379)
#   SENTINEL_QUORUM           sentinels that must agree the primary is down (default 2)
#   SENTINEL_DOWN_AFTER_MS    silence before a node counts as down (default 3000)
#   SENTINEL_FAILOVER_TIMEOUT_MS  (default 10000)
#   SENTINEL_ANNOUNCE_HOST    the name other sentinels reach this one by (default: hostname)
#   SENTINEL_HOSTNAMES        yes (default): nodes and sentinels known by name (Kubernetes); no:
#                             by address (compose, where Docker's DNS is slow to fail for a
#                             stopped container and would stall the sentinel)
#   SENTINEL_PEERS            the other sentinels (host:port,...): a sentinel that starts with no
#                             config asks them for the current primary first (after a failover
#                             SENTINEL_MONITOR is a replica)
#
# With SENTINEL_HOSTNAMES=yes, names everywhere (resolve-hostnames, announce-hostnames, and
# replica-announce-ip on the nodes): a pod keeps its name across restarts, not its address.
set -euo pipefail

password="${REDIS_PASSWORD:-}"
sentinel_password="${REDIS_SENTINEL_PASSWORD:-}"
unset REDIS_PASSWORD REDIS_SENTINEL_PASSWORD
if [[ -z "$password" || -z "$sentinel_password" ]]; then
  echo "sentinel-entrypoint: set REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD" >&2
  exit 64
fi
for value in "$password" "$sentinel_password"; do
  if [[ "$value" == *[[:cntrl:][:space:]\"\\]* ]]; then
    echo "sentinel-entrypoint: passwords must be printable, without spaces, quotes or backslashes" >&2
    exit 64
  fi
done

master="${SENTINEL_MASTER:-switchyard}"
monitor="${SENTINEL_MONITOR:-redis-1:6379}"
config=/data/sentinel.conf
if [[ ! -s "$config" ]]; then
  IFS=',' read -r -a peers <<<"${SENTINEL_PEERS:-}"
  for peer in "${peers[@]}"; do
    [[ -n "$peer" ]] || continue
    answer="$(REDISCLI_AUTH="$sentinel_password" timeout 2 redis-cli -h "${peer%:*}" \
      -p "${peer##*:}" --raw SENTINEL get-master-addr-by-name "$master" 2>/dev/null || true)"
    mapfile -t address <<<"$answer"
    if [[ ${#address[@]} -eq 2 && "${address[1]}" =~ ^[0-9]+$ ]]; then
      monitor="${address[0]}:${address[1]}"
      echo "sentinel-entrypoint: sentinel $peer names the primary $monitor" >&2
      break
    fi
  done
  (
    umask 077
    cat >"$config" <<CONF
port 26379
bind 0.0.0.0 -::*
dir /data
logfile ""
requirepass "$sentinel_password"
sentinel resolve-hostnames ${SENTINEL_HOSTNAMES:-yes}
sentinel announce-hostnames ${SENTINEL_HOSTNAMES:-yes}
sentinel announce-ip ${SENTINEL_ANNOUNCE_HOST:-$(hostname)}
sentinel monitor $master ${monitor%:*} ${monitor##*:} ${SENTINEL_QUORUM:-2}
sentinel auth-pass $master "$password"
sentinel down-after-milliseconds $master ${SENTINEL_DOWN_AFTER_MS:-3000}
sentinel failover-timeout $master ${SENTINEL_FAILOVER_TIMEOUT_MS:-10000}
sentinel parallel-syncs $master 2
CONF
  )
fi
exec redis-server "$config" --sentinel
