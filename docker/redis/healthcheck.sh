#!/bin/bash
# Docker HEALTHCHECK: healthy when Redis answers an authenticated PING. The password is taken as
# the entrypoint takes it and handed to redis-cli through REDISCLI_AUTH, never as an argument.
set -euo pipefail

if [[ -n "${REDIS_PASSWORD_FILE:-}" ]]; then
  REDISCLI_AUTH="$(<"$REDIS_PASSWORD_FILE")"
else
  REDISCLI_AUTH="${REDIS_PASSWORD:-}"
fi
export REDISCLI_AUTH
[[ "$(redis-cli -h 127.0.0.1 -p 6379 ping)" == PONG ]]
