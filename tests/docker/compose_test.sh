#!/usr/bin/env bash
# The stack in containers, end to end (ctest `docker.compose`, label `docker`):
#
#   1. builds every image (docker/build-images.sh: Debian bases, Redis, each Dockerfile.multi
#      target; the `test` target runs the unit tests inside its image),
#   2. starts compose.yaml, unchanged, as a project of its own with a fresh random Redis password
#      and the gateway on a free host port, and waits (bounded) until the gateway is healthy,
#   3. runs the REST contract cases (tests/contract/run_contract.py) through the published port,
#   4. checks the segmentation for real: from a container on the frontend network only the
#      gateway answers, Redis and the services do not (by name nor by address); only the gateway
#      publishes a host port; the backend network is internal,
#   5. calls both gRPC services with the pinned grpcurl from a container on the backend network,
#   6. checks the processes: non-root, tini as PID 1, no password on any command line, Redis's
#      AOF on and AUTH required; then reports image sizes (each runtime image under 200 MB),
#
# and always tears the project down (containers, networks, volume). Without a reachable Docker
# engine it prints one line saying so and exits SWITCHYARD_SKIP_EXIT_CODE (default 0; ctest
# passes 77, its SKIP_RETURN_CODE).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log_prefix=docker-test
# shellcheck source-path=SCRIPTDIR source=../../docker/lib.sh
source "$repo/docker/lib.sh"

if ! docker_reachable; then
  echo "docker-test: SKIPPED: no Docker engine reachable ('docker info' failed or docker is not installed)"
  exit "${SWITCHYARD_SKIP_EXIT_CODE:-0}"
fi
command -v docker-compose >/dev/null ||
  die "docker-compose not found (Debian: apt-get install docker-compose)"
grpcurl="$repo/.tools/bin/grpcurl"
[[ -x "$grpcurl" ]] || grpcurl="$(command -v grpcurl || true)"
[[ -n "$grpcurl" ]] || die "grpcurl not found in .tools/bin or on PATH; run 'make deps'"

tag="${SWITCHYARD_IMAGE_TAG:-local}"
export SWITCHYARD_IMAGE_TAG="$tag"
started=$SECONDS
elapsed() { echo "$((SECONDS - started)) s"; }

# --- 1. images ---------------------------------------------------------------------------------
log "building images"
bash "$repo/docker/build-images.sh"
build_seconds=$((SECONDS - started))
log "images ready after $(elapsed)"

# --- 2. the stack ------------------------------------------------------------------------------
work="$(mktemp -d)"
project="switchyard-test-$(date +%s)-$$"
export SWITCHYARD_REDIS_ENV_FILE="$work/redis.env"
export SWITCHYARD_HTTP_PORT=0
bash "$repo/docker/redis-env.sh" "$SWITCHYARD_REDIS_ENV_FILE" 2>/dev/null
password="$(sed -n 's/^REDIS_PASSWORD=//p' "$SWITCHYARD_REDIS_ENV_FILE")"

compose() {
  docker-compose --project-name "$project" --file "$repo/compose.yaml" "$@"
}
failures=0
teardown() {
  local status=$?
  trap - EXIT
  if ((status != 0 || failures != 0)); then
    echo "--- docker-compose logs (last 40 lines per service) ---" >&2
    compose logs --no-color --tail=40 >&2 2>&1 || true
  fi
  log "tearing down $project"
  compose down --volumes --remove-orphans --timeout 15 >/dev/null 2>&1 ||
    log "warning: 'docker-compose down' failed for project $project"
  rm -rf "$work"
  exit "$status"
}
trap teardown EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# Projects of earlier runs killed before their teardown (ctest's timeout) go first: the name
# ends in the pid of the run that owns it.
for stale in $(docker ps -a --format '{{.Label "com.docker.compose.project"}}' | sort -u |
  grep '^switchyard-test-[0-9]*-[0-9]*$' || true); do
  kill -0 "${stale##*-}" 2>/dev/null && continue
  log "removing $stale, left over by an earlier run"
  docker-compose --project-name "$stale" --file "$repo/compose.yaml" down --volumes \
    --remove-orphans --timeout 5 >/dev/null 2>&1 || true
done

log "starting project $project"
up_started=$SECONDS
# `up -d` itself waits for the depends_on health conditions; bounded in case one never turns.
timeout 300 docker-compose --project-name "$project" --file "$repo/compose.yaml" up -d \
  --no-build >"$work/up.log" 2>&1 || {
  cat "$work/up.log" >&2
  die "docker-compose up failed"
}
gateway="$(compose ps -q gateway)"
[[ -n "$gateway" ]] || die "no gateway container"
health=""
for _ in $(seq 120); do
  health="$(docker inspect -f '{{.State.Health.Status}}' "$gateway")"
  [[ "$health" == healthy ]] && break
  [[ "$(docker inspect -f '{{.State.Running}}' "$gateway")" == true ]] ||
    die "the gateway container stopped"
  sleep 1
done
[[ "$health" == healthy ]] || die "the gateway was not healthy within 120 s (last: $health)"
port="$(compose port gateway 8080)"
port="${port##*:}"
[[ "$port" =~ ^[0-9]+$ ]] || die "no published port for the gateway"
base_url="http://127.0.0.1:$port"
log "stack healthy in $((SECONDS - up_started)) s; gateway at $base_url"

# --- 3. the REST contract through the published port ---------------------------------------------
contract_status=0
SWITCHYARD_BASE_URL="$base_url" python3 "$repo/tests/contract/run_contract.py" ||
  contract_status=$?
((contract_status == 0)) || die "contract cases failed through the published gateway"

# --- checks 4-6 --------------------------------------------------------------------------------
# check DESCRIPTION COMMAND...: runs COMMAND, prints ok/FAIL, counts failures, goes on.
check() {
  local description="$1"
  shift
  if "$@"; then
    echo "ok   $description"
  else
    echo "FAIL $description"
    failures=$((failures + 1))
  fi
}

has_line() { grep -qxF -- "$2" <<<"$1"; }
has_text() { grep -qF -- "$2" <<<"$1"; }
lacks_text() { ! has_text "$1" "$2"; }
container_of() { compose ps -q "$1"; }
network_of() {
  docker network ls -q --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.network=$1"
}
frontend="$(network_of frontend)"
backend="$(network_of backend)"
[[ -n "$frontend" && -n "$backend" ]] || die "the project's networks were not found"

# probe NETWORK HOST:PORT...: from a throwaway container on NETWORK, prints "HOST:PORT open" or
# "HOST:PORT closed" for each (bash's /dev/tcp, 3 s each).
probe() {
  local network="$1"
  shift
  docker run --rm --network "$network" --entrypoint bash "switchyard/gateway:$tag" -c '
    for target in "$@"; do
      if timeout 3 bash -c "exec 3<>/dev/tcp/${target%:*}/${target##*:}" 2>/dev/null; then
        echo "$target open"
      else
        echo "$target closed"
      fi
    done' probe "$@"
}

backend_ip() {
  docker inspect -f "{{(index .NetworkSettings.Networks \"$(docker network inspect -f '{{.Name}}' "$backend")\").IPAddress}}" \
    "$(container_of "$1")"
}
redis_ip="$(backend_ip redis)"
user_ip="$(backend_ip user-service)"
data_ip="$(backend_ip data-service)"

from_frontend="$(probe "$frontend" gateway:8080 redis:6379 user-service:50051 data-service:50052 \
  "$redis_ip:6379" "$user_ip:50051" "$data_ip:50052")"
from_backend="$(probe "$backend" redis:6379 user-service:50051 data-service:50052)"
echo "from the frontend network: $(tr '\n' ' ' <<<"$from_frontend")"
echo "from the backend network:  $(tr '\n' ' ' <<<"$from_backend")"
check "frontend: the gateway answers (the probe works)" has_line "$from_frontend" "gateway:8080 open"
for target in redis:6379 user-service:50051 data-service:50052 "$redis_ip:6379" "$user_ip:50051" \
  "$data_ip:50052"; do
  check "frontend: $target is unreachable" has_line "$from_frontend" "$target closed"
done
for target in redis:6379 user-service:50051 data-service:50052; do
  check "backend: $target answers (the probe works)" has_line "$from_backend" "$target open"
done
check "the backend network is internal (no way out)" \
  test "$(docker network inspect -f '{{.Internal}}' "$backend")" = true
for service in redis user-service data-service; do
  check "$service publishes no host port" test -z "$(docker port "$(container_of "$service")")"
done
check "the gateway publishes 8080 only" \
  test -z "$(docker port "$gateway" | grep -v '^8080/tcp -> ' || true)"

# grpcurl, the pinned binary, mounted into a throwaway container on the backend network.
grpcurl_in_backend() {
  docker run --rm --network "$backend" -v "$grpcurl:/usr/local/bin/grpcurl:ro" \
    --entrypoint /usr/local/bin/grpcurl "switchyard/data-service:$tag" -plaintext "$@" 2>&1 || true
}
data_list="$(grpcurl_in_backend data-service:50052 list)"
user_list="$(grpcurl_in_backend user-service:50051 list)"
check "grpcurl: data-service serves DataService" has_line "$data_list" switchyard.data.v1.DataService
check "grpcurl: data-service serves JobService" has_line "$data_list" switchyard.data.v1.JobService
check "grpcurl: user-service serves UserService" has_line "$user_list" switchyard.user.v1.UserService
check "grpcurl: user-service health is SERVING" \
  has_text "$(grpcurl_in_backend user-service:50051 grpc.health.v1.Health/Check)" '"SERVING"'
check "grpcurl: DataService/GetTime answers" \
  has_text "$(grpcurl_in_backend data-service:50052 switchyard.data.v1.DataService/GetTime)" '"time"'
email="grpcurl-$project@example.com"
created="$(grpcurl_in_backend -d "{\"name\": \"Grace\", \"email\": \"$email\"}" \
  user-service:50051 switchyard.user.v1.UserService/CreateUser)"
check "grpcurl: UserService/CreateUser creates a user" has_text "$created" "\"$email\""
user_id="$(sed -n 's/^ *"id": "\([^"]*\)".*/\1/p' <<<"$created" | head -n 1)"

# Redis keeps its data in the named volume (AOF): a new Redis container still has the user.
log "recreating the redis container"
compose up -d --no-deps --force-recreate redis >/dev/null 2>&1
read_back=""
for _ in $(seq 30); do
  read_back="$(grpcurl_in_backend -d "{\"id\": \"$user_id\"}" user-service:50051 \
    switchyard.user.v1.UserService/GetUser)"
  has_text "$read_back" "\"$email\"" && break
  sleep 1
done
check "a recreated Redis container still has the user (AOF in the volume)" \
  has_text "$read_back" "\"$email\""

# The processes.
for service in gateway user-service data-service; do
  container="$(container_of "$service")"
  check "$service runs as uid 10001" test "$(docker exec "$container" id -u)" = 10001
  check "$service has tini as PID 1" \
    has_text "$(docker exec "$container" cat /proc/1/cmdline | tr '\0' ' ')" "/usr/bin/tini -- "
done
redis="$(container_of redis)"
redis_cli() {
  docker exec "$redis" bash -c 'REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli --no-auth-warning "$@"' \
    redis-cli "$@"
}
check "redis does not run as root" test "$(docker exec "$redis" id -u)" != 0
check "redis: AOF is on" test "$(redis_cli config get appendonly | tail -n 1)" = yes
check "redis: a command without AUTH is refused" \
  has_text "$(docker exec "$redis" redis-cli ping 2>&1)" NOAUTH
command_lines="$(for service in redis user-service data-service gateway; do
  docker top "$(container_of "$service")" -eo pid,args
done)"
check "docker top lists the processes (so the next check can fail)" has_text "$command_lines" redis-server
check "the Redis password is on no command line" lacks_text "$command_lines" "$password"

# --- sizes -------------------------------------------------------------------------------------
echo "image sizes:"
for image in "switchyard/gateway:$tag" "switchyard/user-service:$tag" "switchyard/data-service:$tag" \
  switchyard/redis:7 debian:bookworm-slim "switchyard/builder:$tag"; do
  bytes="$(docker image inspect -f '{{.Size}}' "$image")"
  awk -v image="$image" -v bytes="$bytes" 'BEGIN { printf "  %-32s %6.1f MB\n", image, bytes / 1e6 }'
  case "$image" in
    switchyard/gateway:* | switchyard/user-service:* | switchyard/data-service:*)
      check "$image is under 200 MB" test "$bytes" -lt 200000000
      ;;
  esac
done

echo "timings: images $build_seconds s, whole test $(elapsed)"
((failures == 0)) || die "$failures check(s) failed"
log "passed"
