#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements into summary.md rows and results.json.

usage: summarize.py ROWS_TSV RESULTS_DIR

Each ROWS_TSV line: workload, wall seconds, client user+sys seconds ("U S"), CPU ticks of the
gateway, user-service and redis, peak RSS MB of the gateway and user-service, ticks per second,
the tool's output file (wrk text; ghz JSON for grpc, grpc-load JSON for grpc-light), and the
context switches of the gateway and the user-service over the run.
"""

import json
import re
import sys
from pathlib import Path

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _wrk_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(text):
    """req/s, p50 and p99 in ms, and the count of failed requests from wrk --latency output."""
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M).group(1))
    p50 = _wrk_ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = _wrk_ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket:
        errors += sum(int(g) for g in socket.groups())
    return rps, p50, p99, errors


# What ghz -z reports for the calls still in flight when it closes its connection at the end of
# the run: the load tool's own cut, not an answer of the server.
_GHZ_CUT = ("use of closed network connection", "the client connection is closing")


def parse_ghz(text):
    """The same numbers from ghz -O json."""
    report = json.loads(text)
    by_pct = {d["percentage"]: d["latency"] / 1e6 for d in report.get("latencyDistribution") or []}
    ok = (report.get("statusCodeDistribution") or {}).get("OK", 0)
    cut = sum(n for message, n in (report.get("errorDistribution") or {}).items()
              if any(c in message for c in _GHZ_CUT))
    return report["rps"], by_pct.get(50, 0.0), by_pct.get(99, 0.0), report["count"] - ok - cut


def parse_grpc_load(text):
    """The same numbers from bench/grpc_load.cpp's JSON line."""
    report = json.loads(text)
    return report["rps"], report["p50_us"] / 1000.0, report["p99_us"] / 1000.0, report["errors"]


PARSERS = {"grpc": parse_ghz, "grpc-light": parse_grpc_load}


def main():
    rows_path, results = Path(sys.argv[1]), Path(sys.argv[2])
    records = []
    for line in rows_path.read_text().splitlines():
        (workload, wall, client, gw, us, rd, gw_rss, us_rss, hz, output, gw_sw,
         us_sw) = line.split("\t")
        wall, hz = float(wall), float(hz)
        text = Path(output).read_text()
        rps, p50, p99, errors = PARSERS.get(workload, parse_wrk)(text)
        client_s = sum(float(x) for x in client.split())

        def pct(ticks):
            return round(100.0 * float(ticks) / hz / wall)

        records.append({
            "workload": workload, "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
            "cpu_pct": {"client": round(100.0 * client_s / wall), "gateway": pct(gw),
                        "user-service": pct(us), "redis": pct(rd)},
            "peak_rss_mb": {"gateway": float(gw_rss), "user-service": float(us_rss)},
            "switches_per_request": {"gateway": int(gw_sw) / max(rps * wall, 1),
                                     "user-service": int(us_sw) / max(rps * wall, 1)},
        })
    with open(results / "summary.md", "a") as out:
        for r in records:
            c = r["cpu_pct"]
            out.write(
                f"| {r['workload']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
                f"| {r['errors']} | {c['client']}% | {c['gateway']}% | {c['user-service']}% "
                f"| {c['redis']}% | {r['peak_rss_mb']['gateway']} "
                f"| {r['peak_rss_mb']['user-service']} "
                f"| {r['switches_per_request']['gateway']:.3f} "
                f"| {r['switches_per_request']['user-service']:.3f} |\n")
    header = (results / "summary.md").read_text().split("\n\n")[0]
    (results / "results.json").write_text(
        json.dumps({"header": header, "results": records}, indent=2) + "\n")
    bad = [r["workload"] for r in records if r["errors"]]
    if bad:
        print(f"bench: failed requests in {', '.join(bad)} (see the raw output)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
