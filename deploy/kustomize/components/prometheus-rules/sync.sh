#!/usr/bin/env bash
# Regenerates prometheusrule.yaml from rules.yaml (the source of truth): the same groups, under
# the spec of a monitoring.coreos.com/v1 PrometheusRule.
#
#   ./sync.sh          rewrite prometheusrule.yaml
#   ./sync.sh --check  exit 1 if prometheusrule.yaml is not what rules.yaml generates
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

render() {
  cat <<'HEADER'
# GENERATED from rules.yaml by ./sync.sh; edit rules.yaml and run ./sync.sh.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: switchyard
  labels:
    # prometheus-operator selects rules by label; match your Prometheus's ruleSelector.
    role: alert-rules
spec:
HEADER
  # Drop rules.yaml's leading comment block, indent the rest under spec (blank lines stay empty).
  sed -e '/^#/d' -e 's/^./  &/' "$here/rules.yaml"
}

case "${1:-}" in
  "")
    render >"$here/prometheusrule.yaml"
    ;;
  --check)
    if ! diff -u "$here/prometheusrule.yaml" <(render); then
      echo "prometheusrule.yaml is out of date with rules.yaml: run $here/sync.sh" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
