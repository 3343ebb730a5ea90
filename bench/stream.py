#!/usr/bin/env python3
"""Live updates benchmark: the local stack (redis, user-service, data-service, gateway) from a
build directory, then bench/stream_bench.cpp against the gateway: events per second delivered to
1,000 SSE watchers of one prefix, write-acknowledgement-to-event latency (p50, p99) and the
gateway's memory per open stream. Prints the result as JSON and a Markdown table row.

    SWITCHYARD_BUILD_DIR=build/release python3 bench/stream.py [WATCHERS [RATE [SECONDS]]]

GATEWAY_WORKER_THREADS sets the gateway's WORKER_THREADS (default 1).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "reliability"))
import stack as stacklib  # noqa: E402


def main():
    watchers = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    bench = os.path.join(stacklib.build_dir(), "bench", "stream-bench")
    gateway_env = {"MAX_STREAMS": watchers + 100, "LOG_LEVEL": "warn",
                   "WORKER_THREADS": os.environ.get("GATEWAY_WORKER_THREADS", "1")}
    with stacklib.Stack(gateway_env=gateway_env) as stack:
        stack.start(data_service=True)
        gateway = stack["gateway"]
        out = subprocess.run([bench, str(stack.http_port), str(watchers), str(rate), str(seconds),
                              str(gateway.pid)], capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            return 1
        result = json.loads(out.stdout)
        print(json.dumps(result, indent=1))
        print("| %d | %.0f/s | %d | %.2f | %.2f | %.0f | %.1f | %.1f | %.1f |" % (
            result["watchers"], rate, result["paced_events"], result["ack_to_event_ms_p50"],
            result["ack_to_event_ms_p99"], result["burst_events_per_second"],
            result["rss_kb_open"] / 1024, result["rss_kb_end"] / 1024,
            result["rss_kb_per_stream"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
