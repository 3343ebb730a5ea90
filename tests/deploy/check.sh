#!/usr/bin/env bash
# ctest deploy.kustomize (label deploy): everything under deploy/ and .github/ checked offline.
#
#   tests/deploy/check.sh [OUT_DIR]     OUT_DIR keeps the rendered overlays (default: a temp dir)
#
#   1. tools/k8s-check: go vet, go test, build.
#   2. Every overlay renders (pinned kustomize from .tools/bin; also `kubectl kustomize` when a
#      kubectl with kustomize v5+ is installed) and passes k8s-check (strict typed decoding + our policy rules;
#      -pinned for every overlay but dev). The Secret template passes too.
#   3. Alert rules: promtool check rules, promtool test rules, PrometheusRule in sync.
#   4. Dashboard and rules query only metrics the services export (check_metrics.py), and that
#      check fails on a dashboard with a misspelled metric.
#   5. actionlint on .github/workflows; bash -n and shellcheck on our scripts.
#
# Needs what `make deps` installs: Go, .tools/bin/{kustomize,actionlint}, promtool (Debian's
# prometheus), shellcheck, python3-yaml. Runs every step, then fails if any step failed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
started=$SECONDS

if [[ -n "${1:-}" ]]; then
  out="$1"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi

failed=()
passed=0
step() {
  local name="$1"
  shift
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    printf 'deploy-check: ok   %s (%ds)\n' "$name" $((SECONDS - t0))
  else
    failed+=("$name")
    printf 'deploy-check: FAIL %s (%ds)\n' "$name" $((SECONDS - t0))
  fi
}

need() {
  local path="$1" hint="$2"
  if [[ -z "$path" || ! -x "$path" ]]; then
    echo "deploy-check: error: $hint" >&2
    exit 1
  fi
}

go_bin="$(command -v go || true)"
[[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
kustomize="$repo/.tools/bin/kustomize"
actionlint="$repo/.tools/bin/actionlint"
promtool="$(command -v promtool || true)"
python=/usr/bin/python3
need "$go_bin" "go not found on PATH or in /usr/local/go/bin"
need "$kustomize" ".tools/bin/kustomize missing: run 'make deps'"
need "$actionlint" ".tools/bin/actionlint missing: run 'make deps'"
need "$promtool" "promtool missing (Debian package prometheus): run 'make deps'"
need "$python" "/usr/bin/python3 missing: run 'make deps'"
"$python" -c 'import yaml' 2>/dev/null || {
  echo "deploy-check: error: python3-yaml missing: run 'make deps'" >&2
  exit 1
}

# --- 1. the checker itself --------------------------------------------------------------------------

k8s_check="$out/k8s-check"
go_checker() {
  (
    cd tools/k8s-check
    export GOFLAGS="-mod=readonly -buildvcs=false"
    "$go_bin" vet ./... &&
      "$go_bin" test ./... &&
      "$go_bin" build -o "$k8s_check" .
  )
}
step "tools/k8s-check: go vet, go test, go build" go_checker
[[ -x "$k8s_check" ]] || {
  echo "deploy-check: cannot go on without tools/k8s-check" >&2
  exit 1
}

# --- 2. overlays ------------------------------------------------------------------------------------

render_and_check() {
  local overlay="$1" name flags=()
  name="$(basename "$overlay")"
  [[ "$name" == dev ]] || flags=(-pinned)
  "$kustomize" build "$overlay" >"$out/$name.yaml" || return 1
  "$k8s_check" "${flags[@]}" -label "overlays/$name" "$out/$name.yaml" || return 1
  if [[ -n "$kubectl_kustomize" ]]; then
    kubectl kustomize "$overlay" >"$out/$name.kubectl.yaml" 2>"$out/$name.kubectl.err" || {
      echo "kubectl kustomize $overlay failed:" >&2
      cat "$out/$name.kubectl.err" >&2
      return 1
    }
    if ! cmp -s "$out/$name.yaml" "$out/$name.kubectl.yaml"; then
      echo "note: kubectl kustomize renders $name differently from kustomize $("$kustomize" version)"
    fi
  fi
}
# kubectl's embedded kustomize must render the overlays too; one older than v5 (e.g. Debian 12's
# kubectl 1.20) predates components and is skipped with a note.
kubectl_kustomize=""
if command -v kubectl >/dev/null; then
  kubectl_kustomize="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')"
  if [[ ! "$kubectl_kustomize" =~ ^v[5-9] ]]; then
    echo "deploy-check: kubectl's kustomize is '${kubectl_kustomize:-unknown}' (need v5+): kubectl kustomize skipped"
    kubectl_kustomize=""
  fi
fi
overlays=(deploy/kustomize/overlays/*/)
((${#overlays[@]} >= 3)) || failed+=("expected the overlays dev, staging and prod")
for overlay in "${overlays[@]}"; do
  step "render and check ${overlay%/}" render_and_check "${overlay%/}"
done
step "Secret template holds only the placeholder" \
  "$k8s_check" deploy/kustomize/base/redis-auth.secret.template.yaml

# --- 3. alert rules ---------------------------------------------------------------------------------

rules_dir=deploy/kustomize/components/prometheus-rules
step "promtool check rules" "$promtool" check rules "$rules_dir/rules.yaml"
step "promtool test rules" "$promtool" test rules "$rules_dir/rules_test.yaml"
step "PrometheusRule in sync with rules.yaml" bash "$rules_dir/sync.sh" --check

# --- 4. metric names --------------------------------------------------------------------------------

step "dashboard and rules use exported metrics" "$python" tests/deploy/check_metrics.py "$repo"
misspelled() {
  sed 's/"sum by (route) (rate(http_requests_total{/"sum by (route) (rate(http_request_total{/' \
    deploy/grafana/switchyard-dashboard.json >"$out/misspelled-dashboard.json"
  ! "$python" tests/deploy/check_metrics.py "$repo" "$out/misspelled-dashboard.json" 2>/dev/null
}
step "metric check rejects a misspelled metric" misspelled

# --- 5. workflows and scripts -----------------------------------------------------------------------

step "actionlint .github/workflows" "$actionlint" -no-color
scripts=(deploy/kind/up.sh deploy/kind/prepare.sh deploy/kind/host-setup.sh
  deploy/kind/node/kind/bin/import-images.sh deploy/kind/node/kind/bin/switchyard-entrypoint
  deploy/kind/images/iptables-wrapper
  "$rules_dir/sync.sh" tests/deploy/check.sh)
syntax() {
  local f
  for f in "$@"; do bash -n "$f" || return 1; done
}
step "bash -n scripts" syntax "${scripts[@]}"
if command -v shellcheck >/dev/null; then
  step "shellcheck scripts" shellcheck -x "${scripts[@]}"
else
  echo "deploy-check: shellcheck not installed; skipped (make deps installs it)"
fi

# ------------------------------------------------------------------------------------------------------

echo "deploy-check: rendered overlays in $out"
if ((${#failed[@]})); then
  printf 'deploy-check: failed: %s\n' "${failed[@]}" >&2
  echo "deploy-check: $passed passed, ${#failed[@]} failed ($((SECONDS - started))s)"
  exit 1
fi
echo "deploy-check: $passed passed, 0 failed ($((SECONDS - started))s)"
