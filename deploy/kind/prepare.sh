#!/usr/bin/env bash
# Prepares, once per version set, a kind node image for a machine that can pull no image:
#
#   1. Kubernetes (kubeadm, kubelet, kubectl, kube-apiserver, kube-controller-manager,
#      kube-scheduler, kube-proxy), etcd, CoreDNS and crictl built from the Go module proxy, and
#      pause built from the C source in the k8s.io/kubernetes module;
#   2. the control-plane images, with the tags kubeadm asks for, built from those binaries
#      (kube-proxy's on the project's Debian base, for iptables and conntrack), saved as tars;
#   3. the node image: the project's Debian base (docker/build-base-image.sh) with Debian's
#      systemd, containerd, runc and CNI plugins, kind's own node files (images/base/files of the
#      sigs.k8s.io/kind module), the binaries, and the image tars, imported into containerd when
#      the node boots.
#
# Everything is cached outside the repository, under
# ${SWITCHYARD_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/kind}/<hash>, where <hash>
# covers deploy/kind/versions.env and the node's files (deploy/kind/node/, this script): a run
# with nothing changed finds the node image and returns in a second. It prints the node image's
# name as its last line (for `kind create cluster --image`).
#
# Settings (environment): SWITCHYARD_KIND_CACHE; JOBS (parallel Go compiles, default 2);
# FORCE=1 (rebuild the node image and control-plane images, keeping the compiled binaries).
#
#   prepare.sh --built    builds nothing: exits 0 when this machine's cache holds the binaries
#                         of versions.env (the hour of Go builds is behind it), else 1.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/deploy/kind"
log_prefix=kind-prepare
# shellcheck source-path=SCRIPTDIR source=../../docker/lib.sh
source "$repo/docker/lib.sh"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$here/versions.env"

go_bin="$(command -v go || true)"
[[ -n "$go_bin" || ! -x /usr/local/go/bin/go ]] || go_bin=/usr/local/go/bin/go
[[ -n "$go_bin" ]] || die "go not found on PATH or at /usr/local/go/bin"
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
jobs="${JOBS:-2}"

# Two cache keys: the binaries depend on the versions only; the node image also on every file
# that shapes it (this script, node/, images/, runc-shim/).
hash_files() { cat "$@" | sha256sum | cut -c1-12; }
mapfile -t node_files < <(find "$here/node" "$here/images" "$here/runc-shim" -type f | sort)
binaries_key="$(hash_files "$here/versions.env")"
key="$(hash_files "$here/versions.env" "${BASH_SOURCE[0]}" "${node_files[@]}")"
cache_root="${SWITCHYARD_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/kind}"
cache="$cache_root/$KUBERNETES_VERSION-$binaries_key"
node_image="switchyard/kind-node:$KUBERNETES_VERSION-$key"

# step NAME: true when step NAME has not finished in this cache entry yet.
step() { [[ ! -f "$cache/$1.done" ]]; }
done_step() { touch "$cache/$1.done"; }
binary_parts=(kubernetes etcd coredns crictl pause)

if [[ "${1:-}" == --built ]]; then
  for part in "${binary_parts[@]}"; do
    if step "$part"; then exit 1; fi
  done
  exit 0
fi
mkdir -p "$cache/bin" "$cache/src"

started=$SECONDS

# --- 1. binaries ---------------------------------------------------------------------------------

# module_info MODULE VERSION FIELD: a field of the proxy's .info for the module (e.g. the commit).
module_commit() {
  "$go_bin" mod download -json "$1@$2" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -n 1
}

# A module that requires k8s.io/kubernetes: its go.mod replaces the staging modules
# (k8s.io/api, ...) with directories of its own tree, which only work inside it, so each is
# replaced here by its published v0.MINOR.PATCH.
build_kubernetes() {
  local dir="$cache/src/kubernetes" staging_version="v0.${KUBERNETES_VERSION#v1.}" module_dir
  mkdir -p "$dir"
  module_dir="$("$go_bin" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$module_dir" ]] || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION failed"
  {
    echo "module switchyard.local/kind/kubernetes"
    echo
    echo "go $(awk '$1 == "go" { print $2; exit }' "$module_dir/go.mod")"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n '/^replace (/,/^)/s,^[[:space:]]*\(k8s.io/[a-z-]*\) => ./staging/.*,\t\1 => \1 '"$staging_version"',p' \
      "$module_dir/go.mod"
    echo ")"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

// Package tools pins the Kubernetes commands this module builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
EOF
  (cd "$dir" && "$go_bin" mod tidy >/dev/null 2>&1) || (cd "$dir" && "$go_bin" mod tidy)
  # What hack/lib/version.sh stamps: kubeadm and the version-skew checks read it.
  local minor="${KUBERNETES_VERSION#v1.}" commit build_date key val
  minor="${minor%%.*}"
  commit="$(module_commit k8s.io/kubernetes "$KUBERNETES_VERSION")"
  build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local -a ldflags=(-s -w)
  for pair in "gitMajor=1" "gitMinor=$minor" "gitVersion=$KUBERNETES_VERSION" \
    "gitCommit=${commit:-unknown}" "gitTreeState=clean" "buildDate=$build_date"; do
    key="${pair%%=*}" val="${pair#*=}"
    ldflags+=("-X" "k8s.io/component-base/version.$key=$val"
      "-X" "k8s.io/client-go/pkg/version.$key=$val")
  done
  log "building Kubernetes $KUBERNETES_VERSION (7 commands; 20-40 min the first time on 2 cores)"
  (cd "$dir" && nice -n 10 "$go_bin" build -p "$jobs" -trimpath -ldflags "${ldflags[*]}" \
    -o "$cache/bin/" k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubeadm \
    k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet)
  "$cache/bin/kubeadm" version -o short | grep -qxF "$KUBERNETES_VERSION" ||
    die "kubeadm reports '$("$cache/bin/kubeadm" version -o short)', want $KUBERNETES_VERSION"
}

# etcd's module cannot be `go install`ed (its go.mod has replace directives): a three-line main
# calling etcdmain.Main, in a module of its own, builds the same server.
build_etcd() {
  local dir="$cache/src/etcd"
  mkdir -p "$dir"
  printf 'module switchyard.local/kind/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_VERSION" >"$dir/go.mod"
  cat >"$dir/main.go" <<'EOF'
// Command etcd is etcd's server, built from its module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$dir" && "$go_bin" mod tidy >/dev/null 2>&1) || (cd "$dir" && "$go_bin" mod tidy)
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && nice -n 10 "$go_bin" build -p "$jobs" -trimpath -ldflags "-s -w" \
    -o "$cache/bin/etcd" .)
  # etcdctl is not needed: kubeadm's etcd probes use etcd's /health over HTTP.
}

# CoreDNS's module has no replace directives: `go install` builds its command as released.
build_coredns() {
  log "building CoreDNS $COREDNS_VERSION"
  GOBIN="$cache/bin" nice -n 10 "$go_bin" install -p "$jobs" -trimpath -ldflags "-s -w" \
    "github.com/coredns/coredns@$COREDNS_VERSION"
}

build_crictl() {
  log "building crictl $CRICTL_VERSION"
  GOBIN="$cache/bin" nice -n 10 "$go_bin" install -p "$jobs" -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
}

# pause: the C program of build/pause/linux in the k8s.io/kubernetes module, linked statically.
build_pause() {
  local module_dir
  module_dir="$("$go_bin" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  command -v gcc >/dev/null || die "gcc not found (Debian: apt-get install gcc libc6-dev)"
  log "building pause $PAUSE_VERSION"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-switchyard" \
    -o "$cache/bin/pause" "$module_dir/build/pause/linux/pause.c"
  strip "$cache/bin/pause"
}

for part in "${binary_parts[@]}"; do
  if step "$part"; then
    "build_$part"
    done_step "$part"
  fi
done
log "binaries ready in $cache/bin ($((SECONDS - started)) s)"

# runc-shim: not a cached step (a second's build; its source is in this repository).
(cd "$here/runc-shim" && "$go_bin" build -trimpath -ldflags "-s -w" -o "$cache/bin/runc-shim" .)
# kubectl of the same version, for deploy/kind/up.sh and the tests (`make deps` has no kubectl:
# Debian's is 1.20).
if ! cmp -s "$cache/bin/kubectl" "$repo/.tools/bin/kubectl"; then
  mkdir -p "$repo/.tools/bin"
  install -m 0755 "$cache/bin/kubectl" "$repo/.tools/bin/kubectl"
fi

# The Debian bases (made once; the node image and kube-proxy's start from them), then the
# engine's one change where privileged containers cannot start (host-setup.sh says what).
bash "$repo/docker/build-base-image.sh" >&2
bash "$here/host-setup.sh" "$cache/bin/runc-shim"

if [[ "${FORCE:-}" != 1 ]] && image_exists "$node_image"; then
  log "node image $node_image exists (binaries in $cache)"
  echo "$node_image"
  exit 0
fi

# --- 2. control-plane images ---------------------------------------------------------------------

image_dir="$cache/images-$key"
context="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-kind.XXXXXX")"
trap 'rm -rf "$context"' EXIT
mapfile -t add_hosts < <(mirror_add_host_args)

# static_image IMAGE NAME: an image holding one static binary (Go, or pause linked with
# -static): CoreDNS and pause at /NAME, their upstream images' entrypoints; the others at
# /usr/local/bin/NAME, where kubeadm's manifests find them on PATH.
static_image() {
  local image="$1" name="$2" dir="$context/$2" path="/usr/local/bin/$2"
  [[ "$name" == coredns || "$name" == pause ]] && path="/$name"
  mkdir -p "$dir"
  cp "$cache/bin/$name" "$dir/$name"
  printf 'FROM scratch\nCOPY %s %s\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ["%s"]\n' \
    "$name" "$path" "$path" >"$dir/Dockerfile"
  docker_build "kind-$name" --label io.switchyard.kind=1 -t "$image" "$dir"
}

if [[ "${FORCE:-}" == 1 || ! -f "$image_dir/done" ]]; then
  rm -rf "$image_dir"
  mkdir -p "$image_dir"
  # The images, by the names kubeadm asks for (and pause also as 3.10, kind's own default).
  mapfile -t wanted < <("$cache/bin/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION")
  log "control-plane images: ${wanted[*]}"
  for image in "${wanted[@]}"; do
    name="${image##*/}"
    name="${name%%:*}"
    case "$name" in
      kube-proxy)
        mkdir -p "$context/kube-proxy"
        cp "$cache/bin/kube-proxy" "$here/images/iptables-wrapper" "$context/kube-proxy/"
        docker_build kind-kube-proxy "${add_hosts[@]}" --label io.switchyard.kind=1 -t "$image" \
          -f "$here/images/kube-proxy.Dockerfile" "$context/kube-proxy"
        ;;
      kube-apiserver | kube-controller-manager | kube-scheduler | etcd | coredns | pause)
        static_image "$image" "$name"
        ;;
      *) die "kubeadm asks for an image this script does not build: $image" ;;
    esac
    [[ "$name" == pause ]] && docker tag "$image" "${image%:*}:3.10"
    [[ "$name" == etcd && "$image" != *":$ETCD_IMAGE_TAG" ]] &&
      die "kubeadm asks for $image, versions.env builds etcd $ETCD_IMAGE_TAG"
    out="$image_dir/$name.tar"
    if [[ "$name" == pause ]]; then
      docker save -o "$out" "$image" "${image%:*}:3.10"
    else
      docker save -o "$out" "$image"
    fi
  done
  touch "$image_dir/done"
  # The image tars of other node-image versions go.
  find "$cache" -maxdepth 1 -name 'images-*' ! -name "images-$key" -exec rm -rf {} +
fi

# --- 3. the node image ---------------------------------------------------------------------------

module_dir="$("$go_bin" mod download -json "sigs.k8s.io/kind@$KIND_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$module_dir/images/base/files" ]] || die "sigs.k8s.io/kind@$KIND_VERSION has no images/base/files"
node="$context/node-image"
mkdir -p "$node/bin"
cp -r "$module_dir/images/base/files" "$node/kind-files"
rm -rf "$node/kind-files/LICENSES"
chmod -R u+w,go-w "$node/kind-files"
find "$node/kind-files" -type f -exec chmod 0644 {} +
chmod 0755 "$node/kind-files/usr/local/bin/"* "$node/kind-files/kind/bin/"*
cp -r "$here/node" "$node/node"
rm -f "$node/node/Dockerfile"
for binary in kubeadm kubelet kubectl crictl runc-shim; do
  cp "$cache/bin/$binary" "$node/bin/"
done
cp -r "$image_dir" "$node/images"
rm -f "$node/images/done"
echo "$KUBERNETES_VERSION" >"$node/version"
log "building the node image $node_image"
docker_build kind-node "${add_hosts[@]}" --label io.switchyard.kind=1 -t "$node_image" \
  -f "$here/node/Dockerfile" "$node"
# Node images of other versions or files are replaced by this one.
docker image ls --format '{{.Repository}}:{{.Tag}}' switchyard/kind-node | grep -vxF "$node_image" |
  xargs -r docker image rm >/dev/null 2>&1 || true
log "node image ready in $((SECONDS - started)) s"
echo "$node_image"
