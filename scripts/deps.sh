#!/usr/bin/env bash
# `make deps`: installs everything the project needs to build, test and run. Safe to run again:
# when all is in place it checks and returns within a second or two.
#
#   1. Debian packages (the list below is the only one in the project).
#   2. Go-built tools pinned in tools/go-tools.txt, into .tools/bin.
#   3. Symlinks to the third-party protos buf needs (scripts/protodeps.sh).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

apt_packages=(
  # toolchain
  cmake ninja-build g++ pkg-config make git ca-certificates clang-format
  # compiler cache: a build directory configured by make compiles through it (see the Makefile)
  ccache
  # libraries
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libhiredis-dev libabsl-dev prometheus-cpp-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libgtest-dev libgmock-dev
  # third-party .proto files (google/api, google/rpc; grpc/health)
  golang-github-gogo-googleapis-dev grpc-proto
  # run time and tests: Redis itself, an HTTP load generator, curl and python3 (contract tests)
  redis-server wrk curl python3
  # the console's end-to-end test: headless Chromium driven by Selenium
  chromium chromium-driver python3-selenium
  # the fuzz tests (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # deploy checks (tests/deploy/check.sh): promtool (Debian ships it in prometheus), shellcheck,
  # YAML for the metric-name check
  prometheus shellcheck python3-yaml
)

log_prefix=deps
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$repo/scripts/lib.sh"

# Go is needed for step 2; say so before spending minutes on apt.
go_bin="$(command -v go || true)"
if [[ -z "$go_bin" && -x /usr/local/go/bin/go ]]; then
  go_bin=/usr/local/go/bin/go
fi
if [[ -z "$go_bin" ]]; then
  die "go not found on PATH or at /usr/local/go/bin; install Go 1.26.7+ (see tools/go-tools.txt)"
fi

# --- 1. Debian packages -----------------------------------------------------------------------

missing_packages() {
  # dpkg-query prints one line per installed-or-known package and nothing for unknown ones.
  local installed
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${apt_packages[@]}" \
    2>/dev/null | awk '$2 == "installed" { print $1 }' || true)"
  local pkg
  for pkg in "${apt_packages[@]}"; do
    grep -qxF "$pkg" <<<"$installed" || echo "$pkg"
  done
}

# If apt started a package's system service, stop it: tests and scripts/up.sh start their own
# Redis on free ports, and a Prometheus server would sit on the gateway's metrics port 9090.
# Containers often have no systemd, so every step here may fail harmlessly.
stop_system_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    as_root systemctl disable --now "$1" >/dev/null 2>&1 || true
  elif [[ -x "/etc/init.d/$1" ]]; then
    as_root "/etc/init.d/$1" stop >/dev/null 2>&1 || true
  fi
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
  log "Debian packages: all ${#apt_packages[@]} installed"
else
  log "Debian packages: installing ${missing[*]}"
  # Passed through env: sudo would drop an exported DEBIAN_FRONTEND.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
    --no-install-recommends "${missing[@]}"
  for service in redis-server prometheus; do
    if printf '%s\n' "${missing[@]}" | grep -qx "$service"; then
      stop_system_service "$service"
    fi
  done
fi

# --- 2. Go tools ------------------------------------------------------------------------------

tools_file="$repo/tools/go-tools.txt"
bin_dir="$repo/.tools/bin"
stamp_dir="$repo/.tools/stamps"
mkdir -p "$bin_dir" "$stamp_dir"

while read -r name target rest <&3; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ -n "$target" && -z "$rest" && "$target" == *@v* ]] ||
    die "$tools_file: expected 'NAME MODULE/PATH@vX.Y.Z', got '$name $target $rest'"
  version="${target##*@}"
  stamp="$stamp_dir/$name@$version"
  if [[ -f "$stamp" && -x "$bin_dir/$name" ]]; then
    log "$name $version: already installed"
    continue
  fi
  log "$name $version: go install $target"
  GOBIN="$bin_dir" "$go_bin" install "$target"
  [[ -x "$bin_dir/$name" ]] || die "go install $target did not produce .tools/bin/$name"
  rm -f "$stamp_dir/$name"@*
  touch "$stamp"
done 3<"$tools_file"

# --- 3. Third-party protos for buf ------------------------------------------------------------

bash "$repo/scripts/protodeps.sh" "$repo"
log "done"
