#!/usr/bin/env python3
"""Switchyard beside the reference peer (../shared/peers/grpc-gateway), in alternating pairs.

This machine's speed drifts by up to ~1.8x within minutes, so single runs of two stacks do not
compare. Each round runs the peer, then Switchyard, the same workloads with the same load tools;
the ratio of each pair is taken, and the median over the rounds is reported.

  REST (wrk -t2 -c64 -d15s --latency): the peer's own run.sh; ours: bench/run.sh
  gRPC GetUser (ghz -c64, one connection, 15 s): the same ghz against the peer's Go server
  (started here on its own Redis, as its run.sh does) and against our user-service
  gRPC GetUser (bench/grpc_load.cpp, -c64, one connection, 15 s): the same calls from a client
  light enough that the servers, not the load tool, set the rate

usage: bench/compare.py [--peer DIR] [--rounds N] [--duration 15s] [--docs]
  --peer    a copy of the peer, set up (./setup.sh) and built (./build.sh); default /tmp/peer
  --docs    also write the table into docs/benchmarks.md between its compare markers
Results: bench/results/compare-<time>/ (every run's raw output and compare.md).
"""

import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from summarize import parse_ghz, parse_grpc_load, parse_wrk  # noqa: E402

GOOGLEAPIS = "/usr/share/gocode/src/github.com/gogo/googleapis"
# Peer's result file for each REST workload, as its run.sh names them.
PEER_REST = {"get": "rest-get-by-id", "post": "rest-post", "list": "rest-list-page10"}
WORKLOADS = ["get", "post", "list", "grpc", "grpc-light"]
TITLES = {"get": "GET /api/users/{id}", "post": "POST /api/users",
          "list": "GET /api/users?page_size=10", "grpc": "gRPC GetUser, direct (ghz)",
          "grpc-light": "gRPC GetUser, direct (grpc-load)"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def ghz(args, out):
    env = dict(os.environ, PATH=f"{REPO}/.tools/bin:{os.environ['PATH']}")
    with open(out, "w") as f:
        subprocess.run(["ghz", "--insecure", "-O", "json", *args], stdout=f, check=True, env=env)
    return parse_ghz(Path(out).read_text())


def grpc_load(addr, method, user_id, duration, out):
    with open(out, "w") as f:
        subprocess.run([str(REPO / "build/release/bench/grpc-load"), f"--target={addr}",
                        f"--method={method}", f"--id={user_id}", "--concurrency=64",
                        f"--duration={duration}"], stdout=f, check=True)
    return parse_grpc_load(Path(out).read_text())


def peer_round(peer, out, duration):
    """The peer's REST numbers from its run.sh, then gRPC GetUser with ghz and grpc-load."""
    env = dict(os.environ, SKIP_BUILD="1", BENCH="get post list", RESULTS=str(out),
               DURATION=duration)
    subprocess.run(["./run.sh"], cwd=peer, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    numbers = {w: parse_wrk((out / f"{name}.txt").read_text()) for w, name in PEER_REST.items()}

    redis_port, grpc_port = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(out)], stdout=subprocess.DEVNULL))
        wait_listening(redis_port, procs[-1], "peer redis-server")
        procs.append(subprocess.Popen(
            [f"{peer}/bin/userbackend", "-listen", f"127.0.0.1:{grpc_port}", "-redis",
             f"127.0.0.1:{redis_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_listening(grpc_port, procs[-1], "peer userbackend")
        proto = ["--proto", f"{peer}/proto/user/v1/user.proto", "--import-paths",
                 f"{peer}/proto,{GOOGLEAPIS}"]
        addr = f"127.0.0.1:{grpc_port}"
        ghz([*proto, "--call", "user.v1.UserService/CreateUser", "-d",
             '{"name":"Seed {{.RequestNumber}}","email":"seed-{{.UUID}}@bench.example"}',
             "-n", "100", "-c", "4", addr], out / "grpc-seed.json")
        user = json.loads(subprocess.run(
            [f"{REPO}/.tools/bin/grpcurl", "-plaintext", "-import-path", f"{peer}/proto",
             "-import-path", GOOGLEAPIS, "-proto", "user/v1/user.proto", "-d", '{"page_size":1}',
             addr, "user.v1.UserService/ListUsers"],
            check=True, capture_output=True, text=True).stdout)["users"][0]["id"]
        numbers["grpc"] = ghz([*proto, "--call", "user.v1.UserService/GetUser", "-d",
                               json.dumps({"id": user}), "-c", "64", "--connections", "1",
                               "-z", duration, addr], out / "grpc.json")
        numbers["grpc-light"] = grpc_load(addr, "/user.v1.UserService/GetUser", user, duration,
                                          out / "grpc-light.json")
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait()
    return numbers


def ours_round(out, duration):
    env = dict(os.environ, SWITCHYARD_SKIP_BUILD="1", BENCH="get post list grpc grpc-light",
               RESULTS=str(out), DURATION=duration)
    subprocess.run(["bash", str(REPO / "bench/run.sh")], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = json.loads((out / "results.json").read_text())
    return {r["workload"]: (r["rps"], r["p50_ms"], r["p99_ms"], r["errors"], r)
            for r in report["results"]}


def table(rounds):
    lines = ["| workload | peer req/s (median) | Switchyard req/s (median) | req/s ratio "
             "(median of pairs) | peer p99 ms | Switchyard p99 ms | p99 peer/ours (median) "
             "| pair ratios |", "|---|---|---|---|---|---|---|---|"]
    for w in WORKLOADS:
        pairs = [(p[w], o[w]) for p, o in rounds if w in p and w in o]
        if not pairs:
            continue
        ratios = [o[0] / p[0] for p, o in pairs]
        p99_ratios = [p[2] / o[2] for p, o in pairs if o[2] > 0]
        lines.append(
            f"| {TITLES[w]} | {statistics.median(p[0] for p, _ in pairs):.0f} "
            f"| {statistics.median(o[0] for _, o in pairs):.0f} "
            f"| **{statistics.median(ratios):.2f}x** "
            f"| {statistics.median(p[2] for p, _ in pairs):.2f} "
            f"| {statistics.median(o[2] for _, o in pairs):.2f} "
            f"| {statistics.median(p99_ratios):.2f}x "
            f"| {', '.join(f'{r:.2f}' for r in ratios)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer", default="/tmp/peer")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--docs", action="store_true")
    args = parser.parse_args()
    peer = Path(args.peer).resolve()
    if not (peer / "bin/usergateway").exists():
        sys.exit(f"compare: no built peer in {peer}; copy ../shared/peers/grpc-gateway there and "
                 "run ./setup.sh and ./build.sh")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = REPO / "bench/results" / f"compare-{stamp}"
    results.mkdir(parents=True)
    rounds = []
    for i in range(1, args.rounds + 1):
        print(f"compare: round {i}/{args.rounds}: peer", file=sys.stderr, flush=True)
        p = peer_round(peer, results / f"peer-{i}", args.duration)
        print(f"compare: round {i}/{args.rounds}: switchyard", file=sys.stderr, flush=True)
        o = ours_round(results / f"ours-{i}", args.duration)
        rounds.append((p, o))
        print("  " + "  ".join(f"{w}: {o[w][0] / p[w][0]:.2f}x" for w in WORKLOADS
                               if w in p and w in o), file=sys.stderr, flush=True)
    ours_header = json.loads((results / "ours-1/results.json").read_text())["header"]
    rss = {w: o[w][4]["peak_rss_mb"] for _, o in rounds for w in o}
    peak = {name: max(v[name] for v in rss.values()) for name in ("gateway", "user-service")}
    text = "\n".join([
        f"Run {stamp} UTC, {args.rounds} alternating rounds (peer, then Switchyard), "
        f"{args.duration} per workload.",
        "",
        "```", ours_header, "```", "",
        table(rounds), "",
        f"Highest peak RSS in any Switchyard run: gateway {peak['gateway']} MB, "
        f"user-service {peak['user-service']} MB.",
        f"Raw output: bench/results/compare-{stamp}/ (not committed).",
    ])
    (results / "compare.md").write_text(text + "\n")
    print(text)
    if args.docs:
        docs = REPO / "docs/benchmarks.md"
        begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
        body = docs.read_text()
        head, rest = body.split(begin, 1)
        _, tail = rest.split(end, 1)
        docs.write_text(f"{head}{begin}\n{text}\n{end}{tail}")


if __name__ == "__main__":
    main()
