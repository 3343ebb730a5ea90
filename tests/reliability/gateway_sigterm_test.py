#!/usr/bin/env python3
"""SIGTERM to the gateway under load: nothing accepted is lost.

Clients create users (and read one) through the gateway on keep-alive connections. Mid-load the
gateway gets SIGTERM (DRAIN_DELAY_MS set, as in a deployment behind a load balancer). Checked:
  - /health/ready answers 503 during the drain delay while requests are still served;
  - every request that got a response got its success status (201, 200): zero failures among
    accepted requests;
  - a request that got no response (connection refused after the listener closed, or a
    keep-alive connection closed before the request was read) was not processed: none of those
    creates is stored;
  - every 201 is stored;
  - the gateway exits 0 well within its grace period.
"""

import collections
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as sy  # noqa: E402
from user_service_kill_test import ReadyPoller  # noqa: E402

CLIENTS = 8
DRAIN_DELAY_MS = 700
GRACE_MS = 5000
HEALTHY = 2.0
ROUNDS = 3 if sy.LONG else 1
# No response without a processed request: the peer refused, reset or closed the connection.
NO_RESPONSE_OK = {"ConnectionRefusedError", "ConnectionResetError", "RemoteDisconnected",
                  "BrokenPipeError", "BadStatusLine"}


class GatewaySigtermTest(sy.StackTestCase):
    def test_sigterm_under_load_fails_no_accepted_request(self):
        gateway_env = {"DRAIN_DELAY_MS": DRAIN_DELAY_MS, "SHUTDOWN_GRACE_MS": GRACE_MS,
                       "WORKER_THREADS": 2}
        with sy.Stack(gateway_env=gateway_env) as stack:
            stack.start()
            seed = sy.request(stack.http_port, "POST", "/api/users",
                              {"name": "Seed", "email": "seed-%d@example.com" % os.getpid()})
            self.assertEqual(seed.status, 201, seed.text)
            seed_id = seed.json()["id"]
            acked, unanswered = {}, set()
            for round_number in range(ROUNDS):
                run = "%x-%d" % (int(time.time() * 1000), round_number)

                def step(client, seq):
                    if seq % 4 == 3:
                        return ("get", seed_id, "GET", "/api/users/" + seed_id, None)
                    email = "term-%s-%d-%d@example.com" % (run, client, seq)
                    return ("create", email, "POST", "/api/users", {"name": "T", "email": email})

                if round_number:
                    stack.start_gateway()
                    stack.wait_ready()
                with ReadyPoller(stack.http_port) as ready:
                    load = sy.Load(stack.http_port, CLIENTS, step, reconnect_pause=0.02).start()
                    time.sleep(HEALTHY)
                    term_at = time.monotonic()
                    stack["gateway"].send(signal.SIGTERM)
                    status = stack["gateway"].wait(GRACE_MS / 1000 + 10)
                    exited_at = time.monotonic()
                    time.sleep(0.3)  # clients see the refusals
                    outcomes = load.stop()
                self.assertEqual(status, 0, "the gateway did not exit 0 after SIGTERM")
                self.assertLess(exited_at - term_at, (DRAIN_DELAY_MS + GRACE_MS) / 1000,
                                "the gateway took its whole grace period to stop")

                counts = collections.Counter(o.status or o.error for o in outcomes)
                during = [o for o in outcomes if term_at < o.started and o.status is not None]
                sy.report("round %d: %s; %d answered after SIGTERM; exit after %.2f s" % (
                    round_number, dict(counts), len(during), exited_at - term_at))
                answered_wrong = [o for o in outcomes if o.status is not None
                                  and o.status != {"create": 201, "get": 200}[o.op]]
                self.assertEqual(answered_wrong[:5], [], "a response other than success")
                odd = [o for o in outcomes if o.status is None and o.error not in NO_RESPONSE_OK]
                self.assertEqual(odd[:5], [], "a request failed in an unexpected way")
                self.assertGreater(len(during), 0, "nothing was served during the drain delay")
                # Readiness failed first, while requests were still being answered.
                draining = [t for t, s in ready.samples if t > term_at and s == 503]
                self.assertTrue(draining, "/health/ready never said 503 during the drain")
                self.assertTrue(any(o.finished > min(draining) and o.status == 201
                                    for o in outcomes), "no request served after ready said 503")

                acked.update((o.key, sy.Response(201, {}, o.body, 0).json()["id"])
                             for o in outcomes if o.status == 201)
                unanswered.update(o.key for o in outcomes if o.op == "create" and o.status is None)

            stack.start_gateway()
            stack.wait_ready()
            stored = dict((email, i) for i, email in sy.list_all_users(stack.http_port))
            self.assertEqual({e for e in acked if stored.get(e) != acked[e]}, set(),
                             "acknowledged creates not stored")
            processed_unanswered = unanswered & set(stored)
            sy.report("%d acknowledged creates stored; %d creates without a response, none "
                      "processed: %s" % (len(acked), len(unanswered), not processed_unanswered))
            self.assertEqual(processed_unanswered, set(),
                             "a create was processed but its response never arrived")
            self.assertNoSecretLeaks(stack)


if __name__ == "__main__":
    sy.main()
