#!/usr/bin/env bash
# Writes the env file compose.yaml passes to Redis and the services: REDIS_PASSWORD and
# REDIS_SENTINEL_PASSWORD (the `ha` profile's sentinels), random,
# readable by its owner only. An existing file is kept (its password protects existing data).
#
#   docker/redis-env.sh [FILE]    default: .run/redis.env (the default of compose.yaml)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$repo/.run/redis.env}"

if [[ -s "$file" ]]; then
  echo "redis-env: $file exists; kept" >&2
  exit 0
fi
mkdir -p "$(dirname "$file")"
password="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
sentinel_password="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
(umask 077 && printf '# Written by docker/redis-env.sh.\nREDIS_PASSWORD=%s\nREDIS_SENTINEL_PASSWORD=%s\n' \
  "$password" "$sentinel_password" >"$file")
echo "redis-env: wrote $file" >&2
