#!/usr/bin/env python3
"""A job worker killed -9 mid-job under load; another data-service process takes its jobs over.

Two data-service processes (A and B) work the same queue; the gateway routes the API to B.
Clients submit jobs through the gateway the whole time: data.copy (fast) and users.report (pages
through user-service). To be sure A dies mid-job, user-service is paused (SIGSTOP) until all of
A's slots hold a users.report attempt waiting on it; then A gets SIGKILL and user-service goes on
(SIGCONT). With a short JOB_VISIBILITY_TIMEOUT_MS, B claims A's pending entries (XAUTOCLAIM).
Checked:
  - every submitted job ends SUCCEEDED, and the jobs A was running are finished by B as a later
    attempt;
  - exactly once: across both processes' logs each job has exactly one attempt recorded as
    succeeded, and B's jobs_succeeded_total plus A's successes before it died equals the number
    of jobs; no job is DEAD;
  - each data.copy wrote its target.
"""

import collections
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as sy  # noqa: E402

CONCURRENCY = 4
VISIBILITY_MS = 1000
CLIENTS = 4
LOAD_BEFORE = 1.5
LOAD_AFTER = 6.0 if sy.LONG else 2.0
WORKER_ENV = {
    "JOB_CONCURRENCY": CONCURRENCY,
    "JOB_VISIBILITY_TIMEOUT_MS": VISIBILITY_MS,
    "JOB_TIMEOUT_MS": 20000,
    "JOB_BACKOFF_BASE_MS": 100,
    "JOB_BACKOFF_MAX_MS": 1000,
}


def log_events(process, message):
    """The JSON log lines of `process` whose msg is `message`."""
    events = []
    for line in process.log().splitlines():
        if line.startswith("{") and '"msg":"%s"' % message in line:
            events.append(json.loads(line))
    return events


def open_attempts(process):
    """{(job id, attempt): job type} started by `process` and not finished (or lost) yet."""
    running = {(e["request_id"], e["attempt"]): e["job_type"]
               for e in log_events(process, "job attempt started")}
    for message in ("job attempt finished", "job attempt lost its claim to another worker",
                    "job attempt outcome not recorded; the job is re-delivered after the "
                    "visibility timeout"):
        for e in log_events(process, message):
            running.pop((e["request_id"], e["attempt"]), None)
    return running


class JobWorkerKillTest(sy.StackTestCase):
    def test_jobs_of_a_killed_worker_are_taken_over_and_each_succeeds_exactly_once(self):
        with sy.Stack() as stack:
            stack.start_redis()
            stack.start_user_service()
            worker_a, _, _ = stack.start_data_service("data-service-a", env=WORKER_ENV)
            worker_b, _, b_metrics = stack.start_data_service("data-service-b", env=WORKER_ENV)
            stack.start_gateway(stack.data_services[1][1])
            stack.wait_ready()
            port = stack.http_port
            for i in range(30):
                r = sy.request(port, "POST", "/api/users",
                               {"name": "U%d" % i, "email": "u%d@example.com" % i})
                self.assertEqual(r.status, 201, r.text)
            r = sy.request(port, "PUT", "/api/data/rel/src", {"value": "copied"})
            self.assertEqual(r.status, 200, r.text)

            def step(client, seq):
                if seq % 3 == 0:
                    return ("report", None, "POST", "/api/jobs", {"type": "users.report"})
                key = "rel/dst/%d-%d" % (client, seq)
                return ("copy", key, "POST", "/api/jobs",
                        {"type": "data.copy", "payload": {"from": "rel/src", "to": key}})

            load = sy.Load(port, CLIENTS, step, pause=0.01).start()
            time.sleep(LOAD_BEFORE)
            # Hold every users.report attempt, then wait until A's slots are all such attempts.
            stack["user-service"].send(signal.SIGSTOP)
            def all_slots_held():
                # The same CONCURRENCY users.report attempts open on two looks 200 ms apart.
                first = open_attempts(worker_a)
                if len(first) != CONCURRENCY or set(first.values()) != {"users.report"}:
                    return None
                time.sleep(0.2)
                return first if open_attempts(worker_a) == first else None

            held = sy.wait_for(all_slots_held, 15)
            self.assertTrue(held, "worker A never had all its slots on held users.report jobs: %s"
                            % open_attempts(worker_a))
            worker_a.kill9()
            killed_at = time.monotonic()
            stack["user-service"].send(signal.SIGCONT)
            time.sleep(LOAD_AFTER)
            outcomes = load.stop()

            counts = collections.Counter((o.op, o.status or o.error) for o in outcomes)
            sy.report("submitted: %s; A died running %s" % (dict(counts), sorted(held)))
            self.assertEqual([o for o in outcomes if o.status != 202][:5], [],
                             "a submit was not accepted")
            jobs = {}  # id -> (op, key)
            for o in outcomes:
                body = sy.Response(202, {}, o.body, 0).json()
                jobs[body["id"]] = (o.op, o.key)

            # All of them end SUCCEEDED (bounded wait), none DEAD.
            def unfinished():
                done = set()
                token = ""
                while True:
                    path = "/api/jobs?state=JOB_STATE_SUCCEEDED&page_size=100"
                    r = sy.request(port, "GET", path + ("&page_token=" + token if token else ""))
                    self.assertEqual(r.status, 200, r.text)
                    page = r.json()
                    done.update(j["id"] for j in page.get("jobs", []))
                    token = page.get("next_page_token", "")
                    if not token:
                        return set(jobs) - done

            sy.wait_for(lambda: not unfinished(), 30, interval=0.25)
            finished_at = time.monotonic()
            ids = sorted(jobs)
            states = sy.get_each(port, ["/api/jobs/" + i for i in ids])
            by_id = {i: r.json() for i, r in zip(ids, states)}
            not_succeeded = {i: (j["state"], j.get("last_error")) for i, j in by_id.items()
                             if j["state"] != "JOB_STATE_SUCCEEDED"}
            self.assertEqual(not_succeeded, {}, "jobs that did not succeed")
            for job_id, attempt in held:
                self.assertGreater(by_id[job_id]["attempts"], attempt,
                                   "a job A died running was not run again")

            # Exactly once, across both processes.
            succeeded = collections.Counter()
            by_worker = collections.Counter()
            for name, process in (("A", worker_a), ("B", worker_b)):
                for e in log_events(process, "job attempt finished"):
                    self.assertNotEqual(e["outcome"], "dead", e)
                    if e["outcome"] == "succeeded":
                        succeeded[e["request_id"]] += 1
                        by_worker[name] += 1
            twice = {i: n for i, n in succeeded.items() if n != 1}
            self.assertEqual(twice, {}, "jobs recorded as succeeded more than once")
            self.assertEqual(set(jobs) - set(succeeded), set(), "jobs without a success line")
            b_succeeded = sy.metric(stack.metrics(b_metrics), "jobs_succeeded_total")
            self.assertEqual(b_succeeded, by_worker["B"])
            self.assertEqual(by_worker["A"] + b_succeeded, len(jobs))
            taken_over = [i for i, _ in held if by_id[i]["attempts"] >= 2]
            sy.report("%d jobs all SUCCEEDED %.1f s after the kill; A succeeded %d before dying, "
                      "B %d (metric %d); %d taken over from A" % (
                          len(jobs), finished_at - killed_at, by_worker["A"], by_worker["B"],
                          b_succeeded, len(taken_over)))

            # Each copy wrote its target.
            copies = sorted(key for op, key in jobs.values() if op == "copy")
            targets = sy.get_each(port, ["/api/data/" + key for key in copies])
            wrong = [(k, r.status) for k, r in zip(copies, targets)
                     if r.status != 200 or r.json()["value"] != "copied"]
            self.assertEqual(wrong[:5], [], "copies without their target")
            self.assertNoSecretLeaks(stack)


if __name__ == "__main__":
    sy.main()
