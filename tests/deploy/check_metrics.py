#!/usr/bin/python3
"""Checks that dashboards and alert rules only query metrics that Switchyard exports.

    check_metrics.py REPO [DASHBOARD.json]

DASHBOARD defaults to REPO/deploy/grafana/switchyard-dashboard.json.

The exported metric families are read from the C++ sources (prometheus-cpp builders and the
hand-written collectors), so a renamed metric fails here, not on a blank panel in production.
Also checked: README.md's metric table names only exported families; every label a query uses
is one we export or one the scrape adds; every rule's metrics are ours, kube-state-metrics's,
or recorded by the same file.
"""

import json
import pathlib
import re
import sys

import yaml

SOURCE_DIRS = ["common", "gateway", "user-service", "data-service"]

# Labels the services put on their series, plus what Prometheus's Kubernetes scrape adds and
# the histogram bucket label.
KNOWN_LABELS = {
    "method", "route", "code", "service", "command", "status", "state",  # ours
    "namespace", "pod", "container", "instance", "job",  # the scrape
    "le",
}

# kube-state-metrics series the alert rules may use.
KUBE_STATE_METRICS = {
    "kube_pod_container_status_restarts_total",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
}

PROMQL_KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan", "Inf", "NaN",
}

NAME = r"[a-z_][a-z0-9_]*"


def exported_metrics(repo):
    """Returns (all family names, histogram family names) found in the C++ sources."""
    families, histograms = set(), set()
    patterns = [
        # prometheus::BuildCounter().Name("x") / BuildGauge / BuildHistogram
        (re.compile(r"Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\"(" + NAME + r")\"\)"), None),
        # MetricFamily{"x", "help", prometheus::MetricType::Gauge, {}} and add("x", "help", Type)
        (re.compile(r"\"(" + NAME + r")\",\s*\"[^\"]*\",\s*(?:prometheus::)?MetricType::(\w+)"), None),
        # counter("x", "help", ...): JobMetricsCollector's counter helper
        (re.compile(r"\bcounter\(\"(" + NAME + r")\""), "Counter"),
    ]
    for directory in SOURCE_DIRS:
        for path in sorted((repo / directory).rglob("*.cpp")):
            text = path.read_text(encoding="utf-8")
            for pattern, fixed_type in patterns:
                for match in pattern.finditer(text):
                    if pattern is patterns[0][0]:
                        kind, name = match.group(1), match.group(2)
                    elif fixed_type:
                        kind, name = fixed_type, match.group(1)
                    else:
                        name, kind = match.group(1), match.group(2)
                    families.add(name)
                    if kind == "Histogram":
                        histograms.add(name)
    return families, histograms


def readme_metrics(repo):
    """Metric names in the first column of README.md's `| Metric | Where | Labels |` table."""
    names, in_table = set(), False
    for line in (repo / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| Metric |"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                break
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`(" + NAME + r")`", first_cell))
    return names


def strip_promql(expr):
    """Removes strings, ranges and grouping clauses, leaving names, functions and operators."""
    expr = re.sub(r"\$\{?\w+\}?", "", expr)  # Grafana variables ($__rate_interval, ${ns})
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    return expr


def labels_used(expr):
    """Label names in matchers and in by/without/on/ignoring/group_* clauses."""
    expr = strip_promql(expr)
    found = set()
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        found.update(re.findall(r"(" + NAME + r")\s*(?:=~|!~|!=|=)", matchers))
    for clause in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        found.update(n.strip() for n in clause.split(",") if n.strip())
    return found


def metrics_used(expr):
    """Metric names an expression selects (identifiers that are not functions or keywords)."""
    expr = strip_promql(expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", expr):
        name, call = match.group(1), match.group(2)
        if call or name in PROMQL_KEYWORDS:
            continue
        names.add(name)
    return names


def is_exported(name, families, histograms):
    if name in families:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return True
    return False


def dashboard_queries(dashboard):
    """(where, expr) for every panel target and templating query, rows' panels included."""
    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield f"panel '{panel.get('title')}'", target["expr"]
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and query:
            # label_values(metric, label): the metric and the label must both exist.
            match = re.fullmatch(r"\s*label_values\((" + NAME + r"),\s*(" + NAME + r")\)\s*", query)
            if match:
                yield f"variable '{variable['name']}'", f"{match.group(1)}{{{match.group(2)}!=\"\"}}"
            else:
                yield f"variable '{variable['name']}'", query


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = []
    families, histograms = exported_metrics(repo)
    # A parse that finds almost nothing means the source patterns drifted, not that all is well.
    for expected in ("http_requests_total", "grpc_server_handled_total", "jobs_queue_depth",
                     "process_cpu_seconds_total", "job_duration_seconds"):
        if expected not in families:
            problems.append(f"C++ sources: did not find metric {expected}; update check_metrics.py's patterns")

    for name in sorted(readme_metrics(repo)):
        if not is_exported(name, families, histograms):
            problems.append(f"README.md metric table: {name} is not exported by any service")

    dashboard_path = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else (
        repo / "deploy/grafana/switchyard-dashboard.json")
    dashboard = json.loads(dashboard_path.read_text(encoding="utf-8"))
    checked = 0
    for where, expr in dashboard_queries(dashboard):
        checked += 1
        for name in sorted(metrics_used(expr)):
            if not is_exported(name, families, histograms):
                problems.append(f"{dashboard_path.name}: {where}: {name} is not a metric we export")
        for label in sorted(labels_used(expr) - KNOWN_LABELS):
            problems.append(f"{dashboard_path.name}: {where}: unknown label {label}")
    if checked < 10:
        problems.append(f"{dashboard_path.name}: only {checked} queries found")

    rules_path = repo / "deploy/kustomize/components/prometheus-rules/rules.yaml"
    rules = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    for group in rules["groups"]:
        for rule in group["rules"]:
            where = rule.get("alert") or rule.get("record")
            for name in sorted(metrics_used(rule["expr"])):
                if not (is_exported(name, families, histograms) or name in recorded
                        or name in KUBE_STATE_METRICS):
                    problems.append(f"{rules_path.name}: {where}: {name} is neither ours, "
                                    "kube-state-metrics' nor recorded here")
            unknown = labels_used(rule["expr"]) - KNOWN_LABELS - {"horizontalpodautoscaler"}
            for label in sorted(unknown):
                problems.append(f"{rules_path.name}: {where}: unknown label {label}")

    for problem in problems:
        print(f"check_metrics: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_metrics: ok: {checked} dashboard queries and {sum(len(g['rules']) for g in rules['groups'])} "
          f"rules use only the {len(families)} exported families (plus kube-state-metrics in rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
