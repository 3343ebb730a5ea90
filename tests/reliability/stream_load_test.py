#!/usr/bin/env python3
"""Streaming routes under load and through a data-service restart, against real processes.

1. 1,000 SSE streams of one prefix on one gateway, held for a minute (SWITCHYARD_LONG=1: five)
   while a writer puts a key ten times a second: every stream receives every change once, in
   order, none is lost, and the gateway's memory stays bounded (no growth after the warm-up).
2. data-service killed and restarted on the same port mid-stream: every client sees an error
   event or a clean end, reconnects with Last-Event-ID and, in the end, has every change exactly
   once (no gap, no duplicate).
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as stacklib  # noqa: E402
from stream_sse import Reader, SseStream  # noqa: E402

STREAMS = int(os.environ.get("SWITCHYARD_STREAMS", "1000"))
HOLD_SECONDS = 300 if stacklib.LONG else 60
WRITES_PER_SECOND = 10


class Writer(threading.Thread):
    """PUTs /api/data/<prefix>k with a growing value at a steady rate; records each ack."""

    def __init__(self, port, prefix, rate):
        super().__init__(daemon=True)
        self.port, self.prefix, self.rate = port, prefix, rate
        self.stop_event = threading.Event()
        self.acked = []   # versions, in order
        self.failed = 0

    def run(self):
        connection = None
        n = 0
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            n += 1
            body = {"value": str(n)}
            try:
                response = stacklib.request(self.port, "PUT", "/api/data/%sk" % self.prefix,
                                            body=body, timeout=5, connection=connection)
                if response.status == 200:
                    self.acked.append(int(response.json()["version"]))
                else:
                    self.failed += 1
            except OSError:
                self.failed += 1
            next_at += 1.0 / self.rate
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop_event.wait(delay)

    def stop(self):
        self.stop_event.set()
        self.join(30)


def puts(stream):
    """The versions of the put events of a stream, in arrival order."""
    return [int(json.loads(data)["item"]["version"])
            for _, name, data, _ in stream.events if name == "put"]


class StreamLoadTest(stacklib.StackTestCase):
    def test_a_thousand_streams_for_a_minute_lose_nothing_and_memory_stays_bounded(self):
        with stacklib.Stack(gateway_env={"MAX_STREAMS": STREAMS + 10}) as stack:
            stack.start(data_service=True)
            rss_idle = stack["gateway"].rss_bytes()
            streams = [SseStream(stack.http_port, "/api/data:watch?prefix=load/")
                       for _ in range(STREAMS)]
            reader = Reader(streams)
            try:
                self.assertTrue(reader.poll_until(
                    lambda: all(s.events for s in streams), 60),
                    "not every stream got its first event")
                self.assertTrue(all(s.status == 200 for s in streams))
                gateway = stack["gateway"]
                rss_start = gateway.rss_bytes()
                writer = Writer(stack.http_port, "load/", WRITES_PER_SECOND)
                writer.start()
                samples = []
                end = time.monotonic() + HOLD_SECONDS
                next_sample = time.monotonic()
                while time.monotonic() < end:
                    reader.poll(0.05)
                    if time.monotonic() >= next_sample:
                        samples.append(gateway.rss_bytes())
                        next_sample += 1
                writer.stop()
                acked = list(writer.acked)
                # Changes flowed all along (how many depends on the machine's load).
                self.assertGreaterEqual(len(acked), HOLD_SECONDS)
                last = acked[-1]
                reader.poll_until(lambda: all(puts(s)[-1:] == [last] for s in streams), 30)
                lost = [i for i, s in enumerate(streams) if s.closed or s.body_done]
                self.assertEqual(lost, [], "streams ended early")
                for i, stream in enumerate(streams):
                    got = puts(stream)
                    self.assertEqual(got, acked, "stream %d: changes missing, repeated or "
                                     "out of order" % i)
                warm = max(samples[len(samples) // 4:len(samples) // 2])
                peak = max(samples)
                stacklib.report("streams=%d writes=%d failed_writes=%d rss_idle=%.1fMB "
                                "rss_open=%.1fMB rss_warm=%.1fMB rss_peak=%.1fMB per_stream=%.1fKB"
                                % (STREAMS, len(acked), writer.failed, rss_idle / 1e6,
                                   rss_start / 1e6, warm / 1e6, peak / 1e6,
                                   (rss_start - rss_idle) / STREAMS / 1e3))
                self.assertEqual(writer.failed, 0)
                # Bounded: no growth worth the name once warm (events flowed all along).
                self.assertLess(peak - warm, 8 * 1024 * 1024, samples)
                self.assertLess(peak, 128 * 1024 * 1024)
                # SIGTERM with every stream open: each ends with a final event, the gateway
                # exits 0 within its grace.
                gateway.send(stacklib.signal.SIGTERM)
                self.assertTrue(reader.poll_until(
                    lambda: all(s.body_done for s in streams), 10), "a stream did not end")
                self.assertTrue(all(s.events[-1][1] == "error" and
                                    json.loads(s.events[-1][2])["code"] == 14 for s in streams))
                self.assertEqual(gateway.wait(10), 0)
            finally:
                reader.close()
            self.assertNoSecretLeaks(stack)

    def test_data_service_restart_mid_stream_gives_an_error_or_end_and_resume_has_no_gap(self):
        with stacklib.Stack() as stack:
            stack.start_redis()
            stack.start_user_service()
            _, data_port, data_metrics = stack.start_data_service()
            stack.start_gateway(data_port)
            stack.wait_ready()
            streams = [SseStream(stack.http_port, "/api/data:watch?prefix=rs/") for _ in range(20)]
            reader = Reader(streams)
            writer = Writer(stack.http_port, "rs/", 20)
            try:
                self.assertTrue(reader.poll_until(lambda: all(s.events for s in streams), 20))
                writer.start()
                reader.poll_until(lambda: all(len(puts(s)) >= 5 for s in streams), 20)
                stack["data-service"].kill9()
                # Every client sees the stream end: an error event (UNAVAILABLE) or a clean end.
                self.assertTrue(reader.poll_until(
                    lambda: all(s.body_done or s.closed for s in streams), 20),
                    "a stream did not end when data-service died")
                for stream in streams:
                    names = [name for _, name, _, _ in stream.events]
                    if names[-1] == "error":
                        self.assertEqual(json.loads(stream.events[-1][2])["code"], 14)
                del stack.processes["data-service"]
                stack.start_data_service(port=data_port, metrics_port=data_metrics)
                stack.wait_ready()
                # Reconnect each client after its last id, as an EventSource would.
                resumed = []
                for stream in streams:
                    ids = [i for i, _, _, _ in stream.events if i]
                    again = SseStream(stack.http_port, "/api/data:watch?prefix=rs/",
                                      last_event_id=ids[-1])
                    reader.add(again)
                    resumed.append((stream, again))
                self.assertTrue(reader.poll_until(lambda: all(a.events for _, a in resumed), 20))
                # Writes go on after the restart: each resumed stream sees some of them live.
                self.assertTrue(reader.poll_until(
                    lambda: all(len(puts(a)) >= 10 for _, a in resumed), 30),
                    "resumed streams got no new changes")
                writer.stop()
                acked = list(writer.acked)
                last = acked[-1]
                self.assertTrue(reader.poll_until(
                    lambda: all(puts(a)[-1:] == [last] for _, a in resumed), 30),
                    "resumed streams did not catch up")
                for before, after in resumed:
                    got = puts(before) + puts(after)
                    # Writes during the restart failed (503) and were never acknowledged; every
                    # acknowledged one arrives exactly once, in order.
                    self.assertEqual([v for v in got if v in set(acked)], acked)
                    self.assertEqual(len(got), len(set(got)), "a change arrived twice")
                stacklib.report("restart: streams=%d acked=%d failed_writes=%d"
                                % (len(streams), len(acked), writer.failed))
            finally:
                writer.stop_event.set()
                reader.close()
            # Clients gone while the gateway stops: it exits cleanly (no crash).
            self.assertEqual(stack["gateway"].stop(), 0)


if __name__ == "__main__":
    stacklib.main()
