#!/usr/bin/env bash
# Prints, one a line, the Debian packages the C++ build and its unit tests need, picked from
# scripts/deps.sh's list (the project's only one) by kind, so a library added there reaches the
# image with no edit here while host-only tools (formatters, browsers, Redis, load generators,
# linters) stay out:
#
#   the toolchain    cmake ninja-build g++ pkg-config
#   libraries        *-dev (headers and link libraries; also the googleapis .proto package)
#   code generators  protobuf-compiler*
#   .proto files     *-proto (grpc-proto)
#
#   docker/builder-packages.sh path/to/deps.sh
set -euo pipefail

deps_sh="${1:?usage: builder-packages.sh path/to/deps.sh}"

apt_packages=()
eval "$(sed -n '/^apt_packages=(/,/^)/p' "$deps_sh")"
if ((${#apt_packages[@]} == 0)); then
  echo "builder-packages: no 'apt_packages=( ... )' list found in $deps_sh" >&2
  exit 1
fi
for pkg in "${apt_packages[@]}"; do
  case "$pkg" in
    cmake | ninja-build | g++ | pkg-config | *-dev | protobuf-compiler* | *-proto) echo "$pkg" ;;
  esac
done
