#!/usr/bin/env bash
# Runs Switchyard's dev overlay in a local kind cluster:
#
#   1. creates the kind cluster "switchyard" (deploy/kind/kind-config.yaml) unless it exists;
#   2. builds the images switchyard/{gateway,user-service,data-service,redis}:local
#      (docker/build-images.sh when the repository has it, else `docker build` per target);
#   3. loads them into the cluster's node (`kind load docker-image`: no registry involved);
#   4. creates the namespace and the Secret redis-auth with a random password (kept if it exists);
#   5. applies deploy/kustomize/overlays/dev and waits for every rollout;
#   6. prints the port-forward commands for the gateway and each service, with examples.
#
# Needs docker, kind and kubectl on PATH. Settings (environment):
#   KIND_CLUSTER    cluster name (default switchyard)
#   KIND_NODE_IMAGE the node image to create it from (default: kind's own, pulled by kind;
#                   `make cluster` passes the one deploy/kind/prepare.sh built, where no image
#                   can be pulled)
#   SKIP_BUILD=1    use the switchyard/*:local images already in docker
#   ROLLOUT_TIMEOUT how long to wait for each rollout (default 300s)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cluster="${KIND_CLUSTER:-switchyard}"
namespace=switchyard-dev
overlay="$repo/deploy/kustomize/overlays/dev"
timeout="${ROLLOUT_TIMEOUT:-300s}"
tag=local
services=(gateway user-service data-service)
images=("${services[@]}" redis)

started=$SECONDS
log() { printf 'kind-up: %s\n' "$*"; }
die() {
  printf 'kind-up: error: %s\n' "$*" >&2
  exit 1
}

# --- preflight: say everything that is missing at once ------------------------------------------

missing=()
command -v docker >/dev/null || missing+=("docker (https://docs.docker.com/engine/install/)")
command -v kind >/dev/null || missing+=("kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
command -v kubectl >/dev/null || missing+=("kubectl (https://kubernetes.io/docs/tasks/tools/)")
if ((${#missing[@]})); then
  printf 'kind-up: error: missing on PATH:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
docker info >/dev/null 2>&1 || die "docker is installed but no Docker engine answers ('docker info' failed)"

# --- 1. cluster -----------------------------------------------------------------------------------

if kind get clusters 2>/dev/null | grep -qxF "$cluster"; then
  log "cluster $cluster exists"
else
  log "creating cluster $cluster"
  image_args=()
  [[ -z "${KIND_NODE_IMAGE:-}" ]] || image_args=(--image "$KIND_NODE_IMAGE")
  kind create cluster --name "$cluster" --config "$repo/deploy/kind/kind-config.yaml" \
    "${image_args[@]}" --wait 120s
fi
kubectl config use-context "kind-$cluster" >/dev/null
log "cluster $cluster ready after $((SECONDS - started)) s"

# --- 2. images ------------------------------------------------------------------------------------

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# ensure_local_image NAME: switchyard/NAME:local exists afterwards, or the script stops.
ensure_local_image() {
  local name="$1" image="switchyard/$1:$tag" other
  image_exists "$image" && return 0
  # Built under another tag (e.g. Redis's version tag): take the newest switchyard/NAME image.
  other="$(docker image ls --format '{{.Repository}}:{{.Tag}}' "switchyard/$name" | grep -v ':<none>$' | head -n 1 || true)"
  if [[ -n "$other" ]]; then
    log "tagging $other as $image"
    docker tag "$other" "$image"
    return 0
  fi
  if [[ "$name" == redis ]]; then
    [[ -f "$repo/docker/redis/Dockerfile" ]] || die "no image $image and no docker/redis/Dockerfile to build it"
    docker build -t "$image" "$repo/docker/redis"
  else
    [[ -f "$repo/Dockerfile.multi" ]] || die "no image $image and no Dockerfile.multi to build it"
    docker build -f "$repo/Dockerfile.multi" --target "$name" -t "$image" "$repo"
  fi
}

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  if [[ -x "$repo/docker/build-images.sh" ]]; then
    log "building images with docker/build-images.sh"
    SWITCHYARD_IMAGE_TAG="$tag" "$repo/docker/build-images.sh" "${services[@]}"
  fi
  # Redis from this tree's docker/redis, under the dev overlay's tag (a layer-cache hit after
  # build-images.sh): tagging switchyard/redis:7 instead would take whatever another checkout
  # on the same Docker engine built last.
  if [[ -x "$repo/docker/build-base-image.sh" ]]; then
    SWITCHYARD_REDIS_IMAGE="switchyard/redis:$tag" "$repo/docker/build-base-image.sh"
  fi
fi
for name in "${images[@]}"; do
  ensure_local_image "$name"
done

# --- 3. load --------------------------------------------------------------------------------------

for name in "${images[@]}"; do
  log "loading switchyard/$name:$tag into $cluster"
  kind load docker-image --name "$cluster" "switchyard/$name:$tag"
done

# --- 4. namespace and secret ------------------------------------------------------------------------

# The overlay's own Namespace object (with its Pod Security labels), so the Secret has a home.
kubectl apply -f "$overlay/namespace.yaml"
if kubectl -n "$namespace" get secret redis-auth >/dev/null 2>&1; then
  log "secret redis-auth exists; keeping its password"
else
  log "creating secret redis-auth with a random password"
  password="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  sentinel_password="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # The sentinels' password is used only by components/sentinel-redis.
  kubectl -n "$namespace" create secret generic redis-auth --from-literal=REDIS_PASSWORD="$password" \
    --from-literal=REDIS_SENTINEL_PASSWORD="$sentinel_password" >/dev/null
  unset password sentinel_password
fi

# --- 5. apply and wait ----------------------------------------------------------------------------

log "applying $overlay"
kubectl apply -k "$overlay"
log "waiting for rollouts (up to $timeout each)"
kubectl -n "$namespace" rollout status statefulset/redis --timeout "$timeout"
for name in "${services[@]}"; do
  kubectl -n "$namespace" rollout status "deployment/$name" --timeout "$timeout"
done

log "pods ready after $((SECONDS - started)) s"

# --- 6. how to reach it ---------------------------------------------------------------------------

cat <<USAGE

kind-up: Switchyard is running in kind cluster "$cluster", namespace $namespace.

Gateway (REST), in one terminal:
  kubectl -n $namespace port-forward svc/gateway 8080:80
then:
  curl -s localhost:8080/health/ready
  curl -s -X POST localhost:8080/api/users -H 'Content-Type: application/json' \\
       -d '{"name":"Ada","email":"ada@example.com"}'

user-service (gRPC, reflection on):
  kubectl -n $namespace port-forward svc/user-service 50051:50051
  grpcurl -plaintext localhost:50051 list
  grpcurl -plaintext localhost:50051 grpc.health.v1.Health/Check
  grpcurl -plaintext -d '{"page_size":10}' localhost:50051 switchyard.user.v1.UserService/ListUsers

data-service (gRPC, reflection on):
  kubectl -n $namespace port-forward svc/data-service 50052:50052
  grpcurl -plaintext localhost:50052 list
  grpcurl -plaintext localhost:50052 switchyard.data.v1.DataService/GetTime

Metrics (one pod each): kubectl -n $namespace port-forward deploy/gateway 9090:9090, then
  curl -s localhost:9090/metrics   (user-service 9091, data-service 9092)

grpcurl is in .tools/bin after 'make deps'. Remove everything: kind delete cluster --name $cluster
USAGE
