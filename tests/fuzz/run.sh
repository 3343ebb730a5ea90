#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (a CMake build of tests/fuzz of its own) and runs them.
#
#   tests/fuzz/run.sh BUILD_DIR build            configure (once) and build every target
#   tests/fuzz/run.sh BUILD_DIR run TARGET       fuzz one target for a bounded time
#   tests/fuzz/run.sh BUILD_DIR all              build, then run every target in turn
#
# Targets: path_template, router, query, json. Each run starts from the seed corpus in
# tests/fuzz/corpus/TARGET (read only) and fails on any crash, sanitizer report, broken invariant,
# timeout or memory blow-up; the input is saved under BUILD_DIR/artifacts/ and its path printed. Copy it into tests/fuzz/corpus/TARGET/ and
# it runs in every normal test run from then on (the fuzz_corpus.* tests replay the corpus).
#
# Settings (environment):
#   SWITCHYARD_FUZZ_SECONDS  time per target; default 20, or 300 with SWITCHYARD_LONG=1
#   SWITCHYARD_FUZZ_CXX      the clang++ to use; default clang++-14, else clang++
#   SWITCHYARD_FUZZ_CORPUS   a directory to keep what runs find, across runs (default: a fresh
#                            BUILD_DIR/corpus each run)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="${1:?usage: run.sh BUILD_DIR build|run TARGET|all}"
command="${2:?usage: run.sh BUILD_DIR build|run TARGET|all}"
targets=(path_template router query json)

if [[ -n "${SWITCHYARD_FUZZ_SECONDS:-}" ]]; then
  seconds="$SWITCHYARD_FUZZ_SECONDS"
elif [[ "${SWITCHYARD_LONG:-}" == 1 ]]; then
  seconds=300
else
  seconds=20
fi

die() {
  echo "fuzz: error: $*" >&2
  exit 1
}

build() {
  local cxx="${SWITCHYARD_FUZZ_CXX:-}"
  if [[ -z "$cxx" ]]; then
    cxx="$(command -v clang++-14 || command -v clang++ || true)"
  fi
  [[ -n "$cxx" ]] || die "clang++ not found; run 'make deps' (clang-14, libclang-rt-14-dev)"
  if [[ ! -f "$build_dir/build.ninja" ]]; then
    cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  fi
  cmake --build "$build_dir" -j "${JOBS:-2}"
}

run() {
  local target="$1"
  local binary="$build_dir/fuzz_$target"
  local seeds="$here/corpus/$target"
  [[ -x "$binary" ]] || die "no $binary; run '$0 $build_dir build' first"
  [[ -d "$seeds" ]] || die "no seed corpus $seeds"
  # What this run finds, next to the seeds; started afresh so runs take the same time however
  # many came before (keep a corpus of your own with SWITCHYARD_FUZZ_CORPUS=DIR).
  local work="${SWITCHYARD_FUZZ_CORPUS:-$build_dir/corpus}/$target"
  local artifacts="$build_dir/artifacts"
  [[ -n "${SWITCHYARD_FUZZ_CORPUS:-}" ]] || rm -rf "$work"
  mkdir -p "$work" "$artifacts"
  local dict=()
  [[ -f "$here/$target.dict" ]] && dict=("-dict=$here/$target.dict")
  echo "fuzz: $target for ${seconds}s (seeds: $(find "$seeds" -type f | wc -l) files)"
  local log="$build_dir/$target.log"
  local status=0
  # The work corpus comes first: libFuzzer adds new inputs to the first directory only.
  "$binary" "$work" "$seeds" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target-" >"$log" 2>&1 || status=$?
  # Progress lines are many and say little; the rest (and any report) is shown.
  grep -v -E '^([[:space:]]+NEW_FUNC|#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|".*" # Uses: [0-9]+|###### )' "$log" || true
  if ((status != 0)); then
    echo "fuzz: $target FAILED (status $status); inputs that failed:" >&2
    ls -1 "$artifacts/$target-"* 2>/dev/null >&2 || true
    echo "fuzz: reproduce with: $binary ARTIFACT; keep it as tests/fuzz/corpus/$target/<name>" >&2
    return 1
  fi
  echo "fuzz: $target passed"
}

case "$command" in
  build) build ;;
  run) run "${3:?usage: run.sh BUILD_DIR run TARGET}" ;;
  all)
    build
    failed=0
    for target in "${targets[@]}"; do run "$target" || failed=1; done
    exit "$failed"
    ;;
  *) die "unknown command '$command' (build, run TARGET, all)" ;;
esac
