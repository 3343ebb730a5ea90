#!/bin/bash
# Starts redis-server with /etc/redis/switchyard.conf plus a `requirepass` line read from stdin, so
# the password is on no command line (`ps` shows `redis-server *:6379`). The password comes from
# the file named by REDIS_PASSWORD_FILE, else from REDIS_PASSWORD; it is removed from the
# environment redis-server sees. Extra arguments are passed on as redis-server options.
#
# For a node of a Sentinel-managed group (compose's `ha` profile) it also reads:
#   REDIS_ANNOUNCE_HOST    the name this node is reached by (replica-announce-ip): sentinels and
#                          clients then see names, which survive restarts, not addresses
#   REDIS_REPLICAOF        host:port of the primary to replicate when no sentinel knows better
#                          (empty: start as the primary)
#   REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_SENTINEL_PASSWORD: asked first. A node that
#                          restarts after a failover must come back as a replica of the new
#                          primary, never as a second primary with older data.
set -euo pipefail

if [[ -n "${REDIS_PASSWORD_FILE:-}" ]]; then
  password="$(<"$REDIS_PASSWORD_FILE")"
else
  password="${REDIS_PASSWORD:-}"
fi
unset REDIS_PASSWORD REDIS_PASSWORD_FILE
sentinel_password="${REDIS_SENTINEL_PASSWORD:-}"
unset REDIS_SENTINEL_PASSWORD
if [[ -z "$password" ]]; then
  echo "redis-entrypoint: set REDIS_PASSWORD or REDIS_PASSWORD_FILE; Redis never runs without one" >&2
  exit 64
fi
if [[ "$password" == *[[:cntrl:]]* ]]; then
  echo "redis-entrypoint: the password holds a control character (a newline?)" >&2
  exit 64
fi

# A double-quoted redis.conf string: backslashes and quotes escaped.
quoted="${password//\\/\\\\}"
quoted="${quoted//\"/\\\"}"
# Which primary to follow: the sentinels' current answer, else REDIS_REPLICAOF.
primary="${REDIS_REPLICAOF:-}"
IFS=',' read -r -a sentinels <<<"${REDIS_SENTINELS:-}"
for sentinel in "${sentinels[@]}"; do
  [[ -n "$sentinel" ]] || continue
  answer="$(REDISCLI_AUTH="$sentinel_password" timeout 2 redis-cli -h "${sentinel%:*}" \
    -p "${sentinel##*:}" --raw SENTINEL get-master-addr-by-name \
    "${REDIS_SENTINEL_MASTER:-switchyard}" 2>/dev/null || true)"
  mapfile -t address <<<"$answer"
  if [[ ${#address[@]} -eq 2 && "${address[1]}" =~ ^[0-9]+$ ]]; then
    primary="${address[0]}:${address[1]}"
    echo "redis-entrypoint: sentinel $sentinel names the primary $primary" >&2
    break
  fi
done
if [[ -n "${REDIS_ANNOUNCE_HOST:-}" && "$primary" == "$REDIS_ANNOUNCE_HOST:"* ]]; then
  primary=""  # this node is the primary
fi

config="requirepass \"$quoted\""$'\n'"masterauth \"$quoted\""
if [[ -n "${REDIS_ANNOUNCE_HOST:-}" ]]; then
  config+=$'\n'"replica-announce-ip ${REDIS_ANNOUNCE_HOST}"
fi
if [[ -n "$primary" ]]; then
  config+=$'\n'"replicaof ${primary%:*} ${primary##*:}"
fi
exec redis-server /etc/redis/switchyard.conf "$@" - <<<"$config"
