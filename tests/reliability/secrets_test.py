#!/usr/bin/env python3
"""The Redis password never shows: not in any log (also at debug level, also when it is wrong),
not on any command line, not in any answer of the gateway.

Every other reliability test checks the same after its run; this one makes the services talk about
Redis as much as they can: debug logging, a wrong password (AUTH fails, retried with backoff), then
a Redis restart while they are connected.
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as sy  # noqa: E402
from redis_restart_test import REDIS_WORDS  # noqa: E402

WRONG_PASSWORD = "wrong-%s-password" % os.getpid()


class SecretsTest(sy.StackTestCase):
    def test_wrong_redis_password_is_never_logged_and_never_reaches_clients(self):
        with sy.Stack(user_env={"REDIS_PASSWORD": WRONG_PASSWORD, "LOG_LEVEL": "debug"}) as stack:
            stack.start_redis()
            stack.start_user_service()
            stack.start_gateway()
            # The service runs (degraded), says why in its log, and the gateway answers 503.
            self.assertTrue(sy.wait_for(
                lambda: "redis" in stack["user-service"].log().lower(), 10))
            r = None
            for _ in range(20):
                r = sy.request(stack.http_port, "POST", "/api/users",
                               {"name": "S", "email": "s@example.com"})
                if r.status == 503:
                    break
                time.sleep(0.1)
            self.assertEqual(r.status, 503, r.text)
            self.assertIsNone(REDIS_WORDS.search(r.text), r.text)
            self.assertEqual(stack.get("/health/ready").status, 503)
            time.sleep(1)  # a few AUTH retries
            for name, process in stack.processes.items():
                self.assertNotIn(WRONG_PASSWORD, process.log(), name)
                self.assertNotIn(WRONG_PASSWORD, process.cmdline(), name)
                self.assertNotIn(WRONG_PASSWORD, r.text)
            self.assertNoSecretLeaks(stack)

    def test_password_is_never_logged_at_debug_level_through_a_redis_restart(self):
        with sy.Stack(user_env={"LOG_LEVEL": "debug"},
                      gateway_env={"LOG_LEVEL": "debug"}) as stack:
            stack.start(data_service=True)
            for i in range(20):
                r = sy.request(stack.http_port, "POST", "/api/users",
                               {"name": "S%d" % i, "email": "s%d@example.com" % i})
                self.assertEqual(r.status, 201, r.text)
            self.assertEqual(stack["redis"].stop(), 0)
            stack.start_redis()
            stack.wait_ready()
            self.assertEqual(stack.get("/api/users?page_size=5").status, 200)
            self.assertNoSecretLeaks(stack)
            self.assertNotIn(stack.password, stack.get("/health/ready").text)
            self.assertNotIn(stack.password, stack.get("/openapi.json").text)


if __name__ == "__main__":
    sy.main()
