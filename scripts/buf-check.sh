#!/usr/bin/env bash
# Contract checks, run by `make test` and `make lint`:
#   1. buf lint over proto/ (rules in buf.yaml).
#   2. buf breaking: proto/ as it is now against proto/ as it was before this change. "Before" is
#      HEAD when proto/ has uncommitted changes, else HEAD~1 (so a fresh clone checks the last
#      commit). With no such commit (new repo, single commit, shallow clone) it says why and skips.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

buf="$(command -v buf || true)"
[[ -x "$repo/.tools/bin/buf" ]] && buf="$repo/.tools/bin/buf"
if [[ -z "$buf" ]]; then
  echo "buf-check: buf not found in .tools/bin or on PATH; run 'make deps'" >&2
  exit 1
fi

bash scripts/protodeps.sh "$repo"

echo "buf-check: lint"
"$buf" lint

# --- breaking ---------------------------------------------------------------------------------

skip() {
  echo "buf-check: breaking skipped: $*"
  exit 0
}

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "not a git work tree"
git rev-parse --verify --quiet 'HEAD^{commit}' >/dev/null || skip "no commits yet"
if [[ -n "$(git status --porcelain --untracked-files=all -- proto)" ]]; then
  base=HEAD
else
  base=HEAD~1
fi
git rev-parse --verify --quiet "$base^{commit}" >/dev/null ||
  skip "$base does not exist (single commit or shallow clone), nothing to compare with"
base_label="$base ($(git rev-parse --short "$base"))"
[[ -n "$(git ls-tree -d "$base" proto)" ]] || skip "$base_label has no proto/ directory"

# The old tree gets today's buf.yaml and the same symlinks, so both sides resolve imports alike.
old="$(mktemp -d)"
trap 'rm -rf "$old"' EXIT
git archive "$base" proto | tar -x -C "$old"
cp buf.yaml "$old/"
bash scripts/protodeps.sh "$old"

echo "buf-check: breaking against $base_label"
"$buf" breaking --against "$old"
echo "buf-check: ok"
