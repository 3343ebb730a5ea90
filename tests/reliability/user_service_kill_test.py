#!/usr/bin/env python3
"""kill -9 of user-service under load, then a restart on the same port.

Clients read and create users through the gateway without pause. Mid-load user-service gets
SIGKILL; it stays down for a while, then a new process starts on the same port. Checked:
  - while it is down every request started after the kill gets 503 (UNAVAILABLE) fast: no request
    takes as long as the gateway's deadline (REQUEST_TIMEOUT_MS), none goes unanswered;
  - the 503 bodies are the gateway's google.rpc.Status with no internal address, port or
    transport wording in them;
  - /health/ready turns 503 while it is down and 200 again after;
  - requests succeed again within 2 s of the new process listening, and from then on all do;
  - the gateway process itself never restarts.
"""

import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as sy  # noqa: E402

DEADLINE_MS = 3000
CLIENTS = 6
HEALTHY = 2.0
DOWN = 3.0 if sy.LONG else 2.0
AFTER = 2.0
RECOVERY_LIMIT = 2.0
ROUNDS = 3 if sy.LONG else 1

LEAKY = re.compile(r"127\.0\.0\.1|ipv4:|ipv6:|\[::|localhost|connect|refused|socket|errno|"
                   r"tcp|grpc_|failed to|addresses|exception|\.cpp|\.cc|/work/", re.IGNORECASE)


class ReadyPoller:
    """GET /health/ready every 50 ms on its own thread: [(time, status)]."""

    def __init__(self, port):
        self.port = port
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _run(self):
        while not self._stop.is_set():
            try:
                status = sy.request(self.port, "GET", "/health/ready", timeout=5).status
            except OSError as e:
                status = type(e).__name__
            self.samples.append((time.monotonic(), status))
            time.sleep(0.05)


class UserServiceKillTest(sy.StackTestCase):
    def test_kill_9_gives_fast_503s_then_service_resumes_within_2s_of_restart(self):
        with sy.Stack(gateway_env={"REQUEST_TIMEOUT_MS": DEADLINE_MS}) as stack:
            stack.start()
            gateway_pid = stack["gateway"].pid
            seed = sy.request(stack.http_port, "POST", "/api/users",
                              {"name": "Seed", "email": "seed-%d@example.com" % os.getpid()})
            self.assertEqual(seed.status, 201, seed.text)
            seed_id = seed.json()["id"]
            for round_number in range(ROUNDS):
                run = "%x-%d" % (int(time.time() * 1000), round_number)

                def step(client, seq, run=run):
                    if seq % 2:
                        return ("get", seed_id, "GET", "/api/users/" + seed_id, None)
                    email = "kill-%s-%d-%d@example.com" % (run, client, seq)
                    return ("create", email, "POST", "/api/users", {"name": "K", "email": email})

                with ReadyPoller(stack.http_port) as ready:
                    load = sy.Load(stack.http_port, CLIENTS, step, timeout=DEADLINE_MS / 1000 + 5)
                    load.start()
                    time.sleep(HEALTHY)
                    killing_at = time.monotonic()
                    stack["user-service"].kill9()  # returns once the process is gone
                    killed_at = time.monotonic()
                    time.sleep(DOWN)
                    restarted_at = time.monotonic()
                    stack.start_user_service()  # same port; returns once it listens
                    listening_at = time.monotonic()
                    time.sleep(AFTER)
                    # Run on until a success is seen (bounded), so a slow recovery is measured.
                    sy.wait_for(lambda: any(o.status in (200, 201) and o.started > listening_at
                                            for o in load.snapshot()), 10)
                    outcomes = load.stop()
                self.check_round(round_number, outcomes, ready.samples, killing_at, killed_at,
                                 restarted_at, listening_at, stack)
            self.assertEqual(stack["gateway"].pid, gateway_pid)
            self.assertTrue(stack["gateway"].alive())
            self.assertNoSecretLeaks(stack)

    def check_round(self, round_number, outcomes, ready, killing_at, killed_at, restarted_at,
                    listening_at, stack):
        before = [o for o in outcomes if o.finished < killing_at]
        down = [o for o in outcomes if o.started > killed_at and o.finished < restarted_at]
        after = [o for o in outcomes if o.started > listening_at]
        sy.report_phase(round_number, "before", before)
        sy.report_phase(round_number, "down", down)

        self.assertTrue(before and down and after, "a phase without requests")
        self.assertEqual([o for o in before if o.status not in (200, 201)][:5], [])
        # Down: a fast 503 for every request, never a hang until the deadline.
        self.assertEqual([o for o in down if o.status != 503][:5], [], "not 503 while down")
        slowest = max(o.seconds for o in down)
        self.assertLess(slowest, DEADLINE_MS / 1000.0 / 2,
                        "a request waited %.3f s for a dead upstream" % slowest)
        self.assertEqual([o for o in outcomes if o.status is None][:5], [], "unanswered requests")
        for o in down[:50]:
            body = sy.Response(o.status, {}, o.body, 0).json()
            self.assertEqual(body["code"], 14, o)
            self.assertIsNone(LEAKY.search(o.body.decode()), "an error leaks internals: %r" % o)
            self.assertNotIn(str(stack.user_port).encode(), o.body)
            self.assertEqual(set(body), {"code", "message", "details"}, o)

        # Back: the first success within RECOVERY_LIMIT of the new process listening, and every
        # request from shortly after that on succeeds.
        first_ok = min((o.finished for o in after if o.status in (200, 201)), default=None)
        self.assertIsNotNone(first_ok, "no success after the restart")
        recovery = first_ok - listening_at
        sy.report("round %d: killed; new process started %.2f s later, listening after %.2f s; "
                  "first success %.3f s after it listened" % (
                      round_number, restarted_at - killed_at, listening_at - restarted_at,
                      recovery))
        self.assertLess(recovery, RECOVERY_LIMIT, "no success within 2 s of the restart")
        settled = [o for o in after if o.started > first_ok]
        self.assertTrue(settled)
        self.assertEqual([o for o in settled if o.status not in (200, 201)][:5], [])

        # Readiness followed: 503 while down, 200 again once back.
        down_ready = [s for t, s in ready if killed_at + 0.2 < t < restarted_at]
        self.assertTrue(down_ready and all(s == 503 for s in down_ready), down_ready)
        self.assertEqual(ready[-1][1], 200, ready[-5:])


if __name__ == "__main__":
    sy.main()
