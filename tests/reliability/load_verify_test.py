#!/usr/bin/env python3
"""Load, then verify: concurrent clients create users through the gateway for a bounded time
(10 s; 30 s with SWITCHYARD_LONG=1), then every acknowledged user is read back and the whole store
is listed and compared.

The gateway runs with a small MAX_IN_FLIGHT so that part of the load is refused with 429, and
some requests are made to fail on purpose (duplicate emails: 409; invalid emails: 400). Then:
  - every 201 is readable (GET 200, same id and email) and listed;
  - nothing that failed is stored: the listing holds exactly the acknowledged emails;
  - no request went unanswered, and every status is one the request can legitimately get.
"""

import collections
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as sy  # noqa: E402

DURATION = 30.0 if sy.LONG else 10.0
CLIENTS = 8
MAX_IN_FLIGHT = 4


class LoadVerifyTest(sy.StackTestCase):
    def test_every_acknowledged_create_is_stored_and_nothing_refused_is(self):
        gateway_env = {"MAX_IN_FLIGHT": MAX_IN_FLIGHT, "WORKER_THREADS": 2}
        with sy.Stack(gateway_env=gateway_env) as stack:
            stack.start()
            run = "%x" % int(time.time() * 1000)
            acked = {}       # email -> id, from 201s
            acked_lock = threading.Lock()

            def step(client, seq):
                # Every 10th request repeats an email that was acknowledged already (409); every
                # 25th sends an invalid email (400); the rest create a new user each.
                if seq % 10 == 9:
                    with acked_lock:
                        email = next(iter(acked), None)
                    if email is not None:
                        return ("duplicate", email, "POST", "/api/users",
                                {"name": "Dup", "email": email})
                if seq % 25 == 24:
                    email = "invalid-%s-%d-%d" % (run, client, seq)
                    return ("invalid", email, "POST", "/api/users", {"name": "Bad", "email": email})
                email = "load-%s-%d-%d@example.com" % (run, client, seq)
                return ("create", email, "POST", "/api/users", {"name": "Load %d" % seq,
                                                                "email": email})

            load = sy.Load(stack.http_port, CLIENTS, step)
            # The first acknowledged email, so duplicates have something to repeat.
            first = sy.request(stack.http_port, "POST", "/api/users",
                               {"name": "First", "email": "first-%s@example.com" % run})
            self.assertEqual(first.status, 201, first.text)
            acked["first-%s@example.com" % run] = first.json()["id"]

            load.start()
            deadline = time.monotonic() + DURATION
            seen = 0
            while time.monotonic() < deadline:
                time.sleep(0.1)
                snapshot = load.snapshot()
                with acked_lock:
                    for o in snapshot[seen:]:
                        if o.op == "create" and o.status == 201:
                            acked[o.key] = sy.Response(201, {}, o.body, 0).json()["id"]
                seen = len(snapshot)
            outcomes = load.stop()
            for o in outcomes[seen:]:
                if o.op == "create" and o.status == 201:
                    acked[o.key] = sy.Response(201, {}, o.body, 0).json()["id"]

            by_status = collections.Counter((o.op, o.status or o.error) for o in outcomes)
            sy.report("%.0f s, %d clients: %d requests (%.0f/s), %s" % (
                DURATION, CLIENTS, len(outcomes), len(outcomes) / DURATION,
                sy.latency_summary(outcomes)))
            sy.report("outcomes:", dict(sorted(by_status.items(), key=str)))

            # Every request got an answer, and only an answer it may get.
            unanswered = [o for o in outcomes if o.status is None]
            self.assertEqual(unanswered, [], "requests without a response")
            allowed = {"create": {201, 429}, "duplicate": {409, 429}, "invalid": {400, 429}}
            wrong = [o for o in outcomes if o.status not in allowed[o.op]]
            self.assertEqual(wrong[:5], [], "%d unexpected statuses" % len(wrong))
            # The run exercised both sides: acknowledged writes and refused ones.
            refused = [o for o in outcomes if o.op == "create" and o.status == 429]
            self.assertGreater(len(acked), 100)
            self.assertGreater(len(refused), 0, "no 429: MAX_IN_FLIGHT was never reached")
            self.assertGreater(by_status[("duplicate", 409)], 0)
            self.assertGreater(by_status[("invalid", 400)], 0)

            # The store holds exactly the acknowledged users: each once, none refused or invalid.
            started = time.monotonic()
            listed = sy.list_all_users(stack.http_port)
            listed_emails = [email for _, email in listed]
            self.assertEqual(len(listed_emails), len(set(listed_emails)), "an email listed twice")
            self.assertEqual(len(listed), len({i for i, _ in listed}), "an id listed twice")
            missing = set(acked) - set(listed_emails)
            extra = set(listed_emails) - set(acked)
            self.assertEqual(missing, set(), "acknowledged but not stored")
            self.assertEqual(extra, set(), "stored but never acknowledged (refused or invalid)")
            self.assertEqual(dict((e, i) for i, e in listed), acked, "ids differ")

            # And each acknowledged user reads back by id with its email.
            # Fewer readers than MAX_IN_FLIGHT, so none is refused.
            items = sorted(acked.items())
            responses = sy.get_each(stack.http_port, ["/api/users/" + i for _, i in items],
                                    workers=MAX_IN_FLIGHT - 1)
            results = [(r.status, r.json().get("email") if r.status == 200 else r.text, email)
                       for r, (email, _) in zip(responses, items)]
            unreadable = [(s, got, want) for s, got, want in results if s != 200 or got != want]
            self.assertEqual(unreadable[:5], [], "%d acknowledged users unreadable"
                             % len(unreadable))
            sy.report("verified %d users (listing and GET each) in %.1f s; %d creates refused "
                      "with 429 left nothing behind" % (len(acked), time.monotonic() - started,
                                                        len(refused)))
            self.assertNoSecretLeaks(stack)


if __name__ == "__main__":
    sy.main()
