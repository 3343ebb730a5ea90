#!/bin/bash
# Starts redis-server with /etc/redis/switchyard.conf plus a `requirepass` line read from stdin, so
# the password is on no command line (`ps` shows `redis-server *:6379`). The password comes from
# the file named by REDIS_PASSWORD_FILE, else from REDIS_PASSWORD; it is removed from the
# environment redis-server sees. Extra arguments are passed on as redis-server options.
set -euo pipefail

if [[ -n "${REDIS_PASSWORD_FILE:-}" ]]; then
  password="$(<"$REDIS_PASSWORD_FILE")"
else
  password="${REDIS_PASSWORD:-}"
fi
unset REDIS_PASSWORD REDIS_PASSWORD_FILE
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
exec redis-server /etc/redis/switchyard.conf "$@" - <<<"requirepass \"$quoted\""
