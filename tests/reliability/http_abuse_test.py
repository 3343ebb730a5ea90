#!/usr/bin/env python3
"""Hostile HTTP against the real gateway binary, while a well-behaved client keeps being served.

Raw sockets send what a careless or hostile client sends: oversized bodies and header blocks,
slowloris and idle connections, pipelined and binary garbage, request-smuggling shapes, invalid
UTF-8 in JSON, paths and queries, JSON nested 1,000 and 100,000 deep, huge numbers, wrong content
types. Checked:
  - every case gets the 4xx it should (or, for the slow ones, a closed connection), and every error
    answer is a google.rpc.Status JSON body with an X-Request-ID;
  - slowloris connections are cut by the header timeout and idle ones by the idle timeout;
  - a parallel client's requests all succeed, quickly, the whole time;
  - memory stays bounded: after a warm-up round, 20 more rounds of everything grow the
    gateway's RSS by less than a few MiB, and its open descriptors return to where they were.
"""

import json
import os
import random
import re
import select
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as sy  # noqa: E402

HEADER_TIMEOUT_MS = 1000
IDLE_TIMEOUT_MS = 2000
BODY_LIMIT = 1048576  # the default MAX_BODY_BYTES
SLOWLORIS = 20
IDLE = 5
ROUNDS = 200 if sy.LONG else 20
RSS_GROWTH_LIMIT = 8 * 1024 * 1024


# --- raw HTTP ------------------------------------------------------------------------------------


def connect(port, timeout=5):
    s = socket.create_connection((sy.LOOPBACK, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(s, timeout):
    """Everything the server sends until it closes (or timeout); (bytes, closed)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        ready, _, _ = select.select([s], [], [], left)
        if not ready:
            return data, False
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk


def parse_responses(data):
    """[(status, {lower-case header: value}, body)] from raw bytes (Content-Length framing)."""
    responses = []
    while data:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            break
        lines = data[:head_end].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            raise AssertionError("not an HTTP response: %r" % data[:200])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = data[head_end + 4:head_end + 4 + length]
        responses.append((int(m.group(1)), headers, body))
        data = data[head_end + 4 + length:]
    return responses


def exchange(port, payload, wait=3.0, chunks=None):
    """Sends payload (or each of chunks, stopping when the server hangs up), half-closes (so the
    server sees the end at once), then reads until the server closes or `wait` passes. Returns
    (responses, closed)."""
    s = connect(port)
    try:
        try:
            for piece in (chunks if chunks is not None else [payload]):
                s.sendall(piece)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, closed = read_until_close(s, wait)
        return parse_responses(data), closed
    finally:
        s.close()


def request_bytes(method, target, body=b"", headers=None, content_type="application/json"):
    head = "%s %s HTTP/1.1\r\nHost: gateway\r\n" % (method, target)
    head = head.encode("latin-1") if isinstance(target, str) else head
    extra = dict(headers or {})
    if body and content_type is not None:
        extra.setdefault("Content-Type", content_type)
    if body:
        extra.setdefault("Content-Length", str(len(body)))
    for name, value in extra.items():
        head += ("%s: %s\r\n" % (name, value)).encode("latin-1")
    return head + b"\r\n" + body


def raw_request(method, target_bytes, body=b""):
    return (method.encode() + b" " + target_bytes + b" HTTP/1.1\r\nHost: gateway\r\n"
            + (b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
               if body else b"") + b"\r\n" + body)


# --- the cases -----------------------------------------------------------------------------------

def nested(depth, open_, close, inner=b"1"):
    return open_ * depth + inner + close * depth


def cases():
    """(name, how to send, the status sequence expected, whether the gateway must close the
    connection: the framing itself is broken). 'how' is bytes or a list of chunks."""
    big = BODY_LIMIT * 2
    users = "/api/users"
    chunked_head = (b"POST /api/users HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json"
                    b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    rng = random.Random(7)
    garbage = b"\x16\x03\x01" + bytes(rng.getrandbits(8) for _ in range(4093))  # TLS-ish
    many_headers = "".join("X-Abuse-%04d: %s\r\n" % (i, "v" * 12) for i in range(1000))
    return [
        # Size limits.
        ("declared body over the limit", request_bytes("POST", users, headers={
            "Content-Type": "application/json", "Content-Length": str(big)}), [413], True),
        ("chunked body over the limit", [chunked_head] + [chunk] * (big // 65536 + 2), [413], True),
        ("over the limit with Expect: 100-continue", request_bytes("POST", users, headers={
            "Content-Type": "application/json", "Content-Length": str(big),
            "Expect": "100-continue"}), [413], True),
        ("1,000 headers", ("GET /health/live HTTP/1.1\r\nHost: gateway\r\n" + many_headers
                           + "\r\n").encode(), [431], True),
        ("one 20 KiB header", request_bytes("GET", "/health/live",
                                            headers={"X-Big": "b" * 20480}), [431], True),
        ("20 KiB URL", request_bytes("GET", "/api/users/" + "a" * 20480), [431], True),
        ("body at the limit, not JSON", request_bytes("POST", users, b"x" * BODY_LIMIT), [400], False),
        # Framing abuse.
        ("pipelined garbage after a good request",
         request_bytes("GET", "/health/live") + b"\x00\x01GARBAGE\r\n\r\n", [200, 400], True),
        ("binary garbage", garbage, [400], True),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [400], True),
        ("Content-Length and Transfer-Encoding", request_bytes("POST", users, headers={
            "Content-Type": "application/json", "Content-Length": "4",
            "Transfer-Encoding": "chunked"}) + b"0\r\n\r\n", [400], True),
        ("two different Content-Lengths",
         b"POST /api/users HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n"
         b"Content-Length: 2\r\nContent-Length: 4\r\n\r\n{}{}", [400], True),
        ("negative Content-Length", request_bytes("POST", users, headers={
            "Content-Type": "application/json", "Content-Length": "-1"}), [400], True),
        ("absurd Content-Length", request_bytes("POST", users, headers={
            "Content-Type": "application/json",
            "Content-Length": "99999999999999999999999"}), [400], True),
        ("NUL in a header value", b"GET /health/live HTTP/1.1\r\nHost: g\r\nX-A: a\x00b\r\n\r\n",
         [400], True),
        ("absolute-form target", request_bytes("GET", "http://internal:50051/api/users"), [400], False),
        ("asterisk-form target", request_bytes("GET", "*"), [400], False),
        ("unknown method on a known path", request_bytes("FROB", users), [405], False),
        # Invalid UTF-8, in every place text arrives.
        ("invalid UTF-8 in a JSON string", raw_request(
            "POST", b"/api/users", b'{"name":"\xff\xfe","email":"utf8@example.com"}'), [400], False),
        ("overlong UTF-8 in a JSON string", raw_request(
            "POST", b"/api/users", b'{"name":"\xc0\xaf","email":"utf8@example.com"}'), [400], False),
        ("lone surrogate escape in JSON", raw_request(
            "POST", b"/api/users", b'{"name":"\\ud800","email":"utf8@example.com"}'), [400], False),
        ("invalid UTF-8 in a JSON key", raw_request(
            "POST", b"/api/users", b'{"\xff":"x"}'), [400], False),
        ("escaped invalid UTF-8 in the path", raw_request("GET", b"/api/users/%FF%FE"), [400], False),
        ("raw invalid UTF-8 in the path", raw_request("GET", b"/api/users/\xff\xfe"), [400], False),
        ("raw invalid UTF-8 in an unknown path", raw_request("GET", b"/nope/\xc3\x28"), [404], False),
        ("invalid UTF-8 in a query value", raw_request("GET", b"/api/users?page_token=%C0%AF"),
         [400], False),
        ("invalid UTF-8 in a query key", raw_request("GET", b"/api/users?%FF=1"), [400], False),
        ("malformed percent-encoding", raw_request("GET", b"/api/users/%zz"), [400], False),
        # Deep nesting.
        ("JSON nested 1,000 deep in an unknown field", raw_request(
            "POST", b"/api/users", b'{"x":' + nested(1000, b'{"a":', b"}") + b"}"), [400], False),
        ("JSON nested 1,000 deep in a Struct value", raw_request(
            "PUT", b"/api/data/abuse/deep", b'{"value":' + nested(1000, b"[", b"]") + b"}"),
         [400], False),
        ("JSON nested 100,000 deep", raw_request(
            "PUT", b"/api/data/abuse/deeper", nested(100000, b"[", b"]")), [400], False),
        # Huge numbers.
        ("huge int32 in the query", raw_request("GET", b"/api/users?page_size=99999999999999999999"),
         [400], False),
        ("1e400 in a Value", raw_request("PUT", b"/api/data/abuse/n", b'{"value":1e400}'), [400], False),
        ("100,000-digit number in a Value", raw_request(
            "PUT", b"/api/data/abuse/n", b'{"value":1' + b"0" * 100000 + b"}"), [400], False),
        ("1e400 in an int32", raw_request(
            "POST", b"/api/jobs", b'{"type":"data.copy","max_attempts":1e400}'), [400], False),
        ("int32 given 2^31", raw_request(
            "POST", b"/api/jobs", b'{"type":"data.copy","max_attempts":2147483648}'), [400], False),
        # Content types.
        ("text/plain body", request_bytes("POST", users, b'{"name":"a","email":"ct@example.com"}',
                                          content_type="text/plain"), [415], False),
        ("form body", request_bytes("POST", users, b"name=a&email=ct%40example.com",
                                    content_type="application/x-www-form-urlencoded"), [415], False),
        ("multipart body", request_bytes("POST", users, b"--x\r\n\r\n{}\r\n--x--",
                                         content_type="multipart/form-data; boundary=x"), [415], False),
        ("body without Content-Type", request_bytes("POST", users, b'{"name":"a"}',
                                                    content_type=None), [415], False),
        ("application/jsonx", request_bytes("POST", users, b"{}",
                                            content_type="application/jsonx"), [415], False),
    ]


def check_case(test, port, name, how, expected, closes):
    chunks = how if isinstance(how, list) else None
    payload = None if chunks is not None else how
    responses, closed = exchange(port, payload, chunks=chunks)
    statuses = [status for status, _, _ in responses]
    test.assertEqual(statuses, expected, "%s: got %s (closed: %s)" % (name, statuses, closed))
    for status, headers, body in responses:
        test.assertTrue(headers.get("x-request-id"), "%s: no X-Request-ID" % name)
        if status >= 400:
            error = json.loads(body.decode("utf-8"))  # valid UTF-8 JSON, never empty
            test.assertEqual(set(error), {"code", "message", "details"}, name)
            test.assertTrue(error["message"], name)
    test.assertTrue(closed, "%s: the connection stayed open after the client's end" % name)
    if closes:  # the server cannot go on reading this connection
        test.assertEqual(responses[-1][1].get("connection"), "close",
                         "%s: the gateway did not say it closes" % name)


# --- slow clients --------------------------------------------------------------------------------


def slowloris(port, results):
    """One byte a second of a request header; records (seconds from the first byte to the
    server closing, anything the server answered)."""
    header = b"GET /health/live HTTP/1.1\r\nHost: gateway\r\nX-Slow: " + b"s" * 60
    s = connect(port)
    first = time.monotonic()
    answer = b""
    try:
        for i in range(len(header)):
            try:
                s.sendall(header[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            ready, _, _ = select.select([s], [], [], 1.0)
            if ready:
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    break
                answer += chunk
        results.append((time.monotonic() - first, answer))
    finally:
        s.close()


def idle(port, results):
    s = connect(port)
    opened = time.monotonic()
    try:
        _, closed = read_until_close(s, IDLE_TIMEOUT_MS / 1000.0 * 3)
        results.append((time.monotonic() - opened, closed))
    finally:
        s.close()


class Canary:
    """A well-behaved client: a read and a create every 20 ms, on one keep-alive connection."""

    def __init__(self, port, user_id):
        self.load = sy.Load(port, 1, self.step, timeout=5, pause=0.02)
        self.user_id = user_id

    def step(self, client, seq):
        if seq % 2:
            email = "canary-%d-%d@example.com" % (os.getpid(), seq)
            return ("create", email, "POST", "/api/users", {"name": "C", "email": email})
        return ("get", self.user_id, "GET", "/api/users/" + self.user_id, None)


class HttpAbuseTest(sy.StackTestCase):
    def test_hostile_clients_get_4xx_or_cut_off_while_others_are_served_in_bounded_memory(self):
        gateway_env = {"HEADER_TIMEOUT_MS": HEADER_TIMEOUT_MS, "IDLE_TIMEOUT_MS": IDLE_TIMEOUT_MS}
        with sy.Stack(gateway_env=gateway_env) as stack:
            stack.start(data_service=True)
            port = stack.http_port
            gateway = stack["gateway"]
            seed = sy.request(port, "POST", "/api/users",
                              {"name": "Seed", "email": "seed-%d@example.com" % os.getpid()})
            self.assertEqual(seed.status, 201, seed.text)
            baseline_fds = gateway.open_fds()
            canary = Canary(port, seed.json()["id"])
            canary.load.start()

            # Slow clients first, in the background, while the first round of everything runs.
            slow_results, idle_results = [], []
            slow = [threading.Thread(target=slowloris, args=(port, slow_results))
                    for _ in range(SLOWLORIS)]
            slow += [threading.Thread(target=idle, args=(port, idle_results)) for _ in range(IDLE)]
            for t in slow:
                t.start()
            all_cases = cases()
            for case in all_cases:  # warm-up round
                check_case(self, port, *case)
            for t in slow:
                t.join(30)
            self.assertEqual(len(slow_results), SLOWLORIS)
            for seconds, answer in slow_results:
                self.assertEqual(answer, b"", "a slowloris request was answered")
                self.assertLess(seconds, HEADER_TIMEOUT_MS / 1000.0 + 2.0,
                                "a slowloris connection lived %.1f s" % seconds)
            self.assertEqual(len(idle_results), IDLE)
            for seconds, closed in idle_results:
                self.assertTrue(closed, "an idle connection was never closed")
                self.assertGreater(seconds, IDLE_TIMEOUT_MS / 1000.0 * 0.8)
                self.assertLess(seconds, IDLE_TIMEOUT_MS / 1000.0 + 2.0)
            sy.report("%d slowloris connections cut after %.1f-%.1f s; %d idle ones after "
                      "%.1f-%.1f s" % (
                          SLOWLORIS, min(s for s, _ in slow_results),
                          max(s for s, _ in slow_results), IDLE,
                          min(s for s, _ in idle_results), max(s for s, _ in idle_results)))

            # Memory: the same abuse again, several times, must not grow the gateway.
            rss_before = gateway.rss_bytes()
            started = time.monotonic()
            for _ in range(ROUNDS):
                for case in all_cases:
                    check_case(self, port, *case)
            took = time.monotonic() - started
            rss_after = gateway.rss_bytes()
            fds_settled = sy.wait_for(lambda: gateway.open_fds() <= baseline_fds + 1, 5)
            outcomes = canary.load.stop()
            sy.report("%d cases x %d rounds in %.1f s; gateway RSS %.1f -> %.1f MiB; open fds "
                      "%d -> %d" % (len(all_cases), ROUNDS, took, rss_before / 2**20,
                                    rss_after / 2**20, baseline_fds, gateway.open_fds()))
            if gateway.sanitized():
                sy.report("ASan build: RSS not compared (freed memory sits in ASan's quarantine); "
                          "LeakSanitizer checks the gateway at exit instead")
            else:
                self.assertLess(rss_after - rss_before, RSS_GROWTH_LIMIT,
                                "the gateway's memory grew")
            self.assertTrue(fds_settled, "descriptors leaked: %d open, %d before"
                            % (gateway.open_fds(), baseline_fds))

            # The well-behaved client was served the whole time.
            sy.report("parallel client: %s" % sy.latency_summary(outcomes))
            self.assertGreater(len(outcomes), 50)
            failed = [o for o in outcomes if o.status not in (200, 201)]
            self.assertEqual(failed[:5], [], "the parallel client was not served")
            self.assertLess(max(o.seconds for o in outcomes), 1.0)
            self.assertTrue(gateway.alive())
            self.assertNoSecretLeaks(stack)
            # A clean exit after all that (under ASan: no leaks either).
            self.assertEqual(gateway.stop(), 0, "the gateway did not exit cleanly")


if __name__ == "__main__":
    sy.main()
