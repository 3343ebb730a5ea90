#!/usr/bin/env python3
"""compose.yaml's `ha` profile under faults (ctest label `ha`): real containers, real sentinels.

    ha_failover_test.py SCENARIO [--no-durability]
        SCENARIO: kill | partition | sentinel-replica | five

Each run builds the images (docker/build-images.sh; layer-cache hits when nothing changed; skip
with SWITCHYARD_HA_SKIP_BUILD=1), starts its own compose project with `--env-file docker/ha.env`
(`--profile ha`: three Redis nodes, three sentinels, the services on Sentinel in durability mode:
REDIS_MIN_REPLICA_ACKS=1, or 0 with --no-durability) and the gateway on a free host port, and
drives steady write load through the gateway (POST /api/users, each with a new email, and every
JOB_EVERY-th request POST /api/jobs, a data.copy job to a key of its own) while it injects the
scenario's faults:

  kill              docker kill the primary; later `docker start` it: it must rejoin as a replica
  partition         docker network disconnect the primary from redis-ha (cut off from the
                    sentinels and the services), then reconnect it: it must come back as a replica
  sentinel-replica  docker kill one sentinel, then a replica: service continues
  five              five failovers in a row (kill the primary, wait, bring it back as a replica)

Every acknowledged write (201, 202) is recorded and read back afterwards. The report, one block
per fault and one for the run: seconds until writes succeed again, requests failed and their
statuses, acknowledged writes lost, duplicate emails; for the jobs: lost, SUCCEEDED more than
once, DEAD early, retried. It fails when an acknowledged user or job is lost (in durability mode;
without it the count is only reported), an email is stored twice, a job SUCCEEDED twice or died
before its attempts ran out, a request runs past the gateway's deadline (10 s, plus 2 s of slack)
or gets no answer, or writes do not succeed again within RECOVERY_LIMIT seconds of a fault.
Without a reachable Docker engine it exits SWITCHYARD_SKIP_EXIT_CODE (ctest: 77, skipped).
"""

import bisect
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "reliability"))
import stack as sy  # noqa: E402

SCENARIOS = ("kill", "partition", "sentinel-replica", "five")
CLIENTS = 4
# One request in JOB_EVERY submits a job (202) instead of creating a user (201).
JOB_EVERY = 4
ACCEPTED = (201, 202)
# A job whose attempt was cut short by a failover is taken over after data-service's
# JOB_VISIBILITY_TIMEOUT_MS (30 s), then retried after a backoff: every acknowledged job ends
# (SUCCEEDED or DEAD) within this many seconds of the load stopping.
JOBS_SETTLE_SECONDS = 150
# The gateway's REQUEST_TIMEOUT_MS (10 s) and slack for a loaded machine.
DEADLINE_SECONDS = 12.0
# Target: writes succeed again within 10 s of the primary's death (sentinel detection included).
RECOVERY_LIMIT = 10.0
# A partition is noticed by the services' command timeout, then the same failover: 5 s more.
PARTITION_RECOVERY_LIMIT = 15.0
MASTER = "switchyard"
NODES = ("redis-1", "redis-2", "redis-3")
SENTINELS = ("sentinel-1", "sentinel-2", "sentinel-3")
# compose.yaml's fixed addresses on network redis-ha: docker/ha.env's SWITCHYARD_HA_NET.
with open(os.path.join(REPO, "docker", "ha.env")) as env_file:
    HA_NET = re.search(r"^SWITCHYARD_HA_NET=(\S+)$", env_file.read(), re.M).group(1)
ADDRESSES = {"redis-1": HA_NET + ".11", "redis-2": HA_NET + ".12", "redis-3": HA_NET + ".13"}
NODE_AT = {address: node for node, address in ADDRESSES.items()}


def log(message):
    print("ha-test: %s" % message, flush=True)


def run(argv, timeout=120, check=True, env=None):
    return sy.run_command(argv, timeout=timeout, check=check, env=env)


def wait_for(predicate, timeout, interval=0.2):
    return sy.wait_for(predicate, timeout, interval)


class Project:
    """One compose project of the `ha` profile, with a random password and a free gateway port."""

    def __init__(self, durable):
        self.name = "switchyard-ha-%d-%d" % (int(time.time()), os.getpid())
        self.durable = durable
        self.work = tempfile.mkdtemp(prefix="switchyard-ha-")
        self.env = dict(os.environ)
        self.env["SWITCHYARD_REDIS_ENV_FILE"] = os.path.join(self.work, "redis.env")
        self.env["SWITCHYARD_HTTP_PORT"] = "0"
        if not durable:
            # Over docker/ha.env's 1: writes acknowledged without waiting for a replica.
            self.env["SWITCHYARD_MIN_REPLICA_ACKS"] = "0"
        run(["bash", os.path.join(REPO, "docker", "redis-env.sh"),
             self.env["SWITCHYARD_REDIS_ENV_FILE"]])
        self.http_port = None
        self.containers = {}

    def compose(self, *args, timeout=300, check=True):
        return run(["docker-compose", "--project-name", self.name, "--file",
                    os.path.join(REPO, "compose.yaml"), "--profile", "ha", "--env-file",
                    os.path.join(REPO, "docker", "ha.env")] + list(args),
                   timeout=timeout, check=check, env=self.env)

    def container(self, service):
        """The service's container id, looked up once: docker kill/start keep it, and
        docker-compose takes seconds (up to a minute on a busy machine) per call."""
        if service not in self.containers:
            out = run(["docker", "ps", "-a", "--filter",
                       "label=com.docker.compose.project=%s" % self.name, "--format",
                       '{{.Label "com.docker.compose.service"}} {{.ID}}']).stdout
            for line in out.splitlines():
                name, _, cid = line.partition(" ")
                self.containers[name] = cid
        if service not in self.containers:
            raise AssertionError("no container for %s" % service)
        return self.containers[service]

    def network(self):
        out = run(["docker", "network", "ls", "-q", "--filter",
                   "label=com.docker.compose.project=%s" % self.name, "--filter",
                   "label=com.docker.compose.network=redis-ha"]).stdout.split()
        if len(out) != 1:
            raise AssertionError("network redis-ha not found: %r" % out)
        return out[0]

    def remove_stale(self):
        """Projects of earlier runs killed before their teardown hold redis-ha's fixed subnet:
        removed when the run that owns them (the pid their name ends in) is gone."""
        labels = run(["docker", "network", "ls", "--format",
                      '{{.Label "com.docker.compose.project"}}']).stdout.split()
        for stale in sorted(set(p for p in labels if re.match(r"^switchyard-ha-\d+-\d+$", p))):
            pid = int(stale.rsplit("-", 1)[1])
            if stale == self.name or os.path.exists("/proc/%d" % pid):
                continue
            log("removing %s, left over by an earlier run" % stale)
            run(["docker-compose", "--project-name", stale, "--file",
                 os.path.join(REPO, "compose.yaml"), "--profile", "ha", "--env-file",
                 os.path.join(REPO, "docker", "ha.env"), "down", "--volumes", "--remove-orphans",
                 "--timeout", "5"], timeout=300, check=False, env=self.env)

    def up(self):
        self.remove_stale()
        self.compose("up", "-d", "--no-build", timeout=420)
        gateway = self.container("gateway")
        if not wait_for(lambda: run(["docker", "inspect", "-f", "{{.State.Health.Status}}",
                                     gateway]).stdout.strip() == "healthy", 180, 1.0):
            raise AssertionError("the gateway never became healthy")
        port = self.compose("port", "gateway", "8080").stdout.strip()
        self.http_port = int(port.rsplit(":", 1)[1])
        for service in NODES + SENTINELS:
            self.container(service)

    def redis_cli(self, service, *args, sentinel=False, timeout=10):
        """redis-cli inside `service`'s container, authenticated from its own environment."""
        variable = "REDIS_SENTINEL_PASSWORD" if sentinel else "REDIS_PASSWORD"
        port = "26379" if sentinel else "6379"
        quoted = " ".join("'%s'" % a for a in args)
        script = 'REDISCLI_AUTH="$%s" redis-cli -p %s --raw %s' % (variable, port, quoted)
        return run(["docker", "exec", self.container(service), "sh", "-c", script],
                   timeout=timeout, check=False)

    def primary(self, sentinels=SENTINELS):
        """The primary's service name as the first answering sentinel names it, else None."""
        for sentinel in sentinels:
            try:
                out = self.redis_cli(sentinel, "SENTINEL", "get-master-addr-by-name", MASTER,
                                     sentinel=True)
            except (subprocess.TimeoutExpired, AssertionError):
                continue
            lines = out.stdout.split()
            if out.returncode == 0 and len(lines) == 2:
                return NODE_AT.get(lines[0], lines[0])
        return None

    def role(self, node):
        try:
            out = self.redis_cli(node, "ROLE")
        except (subprocess.TimeoutExpired, AssertionError):
            return None
        lines = out.stdout.split()
        return lines[0] if out.returncode == 0 and lines else None

    def online_replicas(self, node):
        out = self.redis_cli(node, "INFO", "replication")
        return len(re.findall(r"state=online", out.stdout)) if out.returncode == 0 else 0

    def succeeded_events(self):
        """{job id: number of `succeeded` entries} in the job change stream on the primary
        (sy:jobs:events, data-service/redis_util.hpp's job_event: fields job, state, ...)."""
        primary = self.primary()
        out = self.redis_cli(primary, "--json", "XRANGE", "sy:jobs:events", "-", "+",
                             timeout=60)
        if out.returncode != 0:
            raise AssertionError("XRANGE sy:jobs:events failed: %s" % out.stderr.strip())
        counts = collections.Counter()
        for _, fields in json.loads(out.stdout or "[]"):
            entry = dict(zip(fields[0::2], fields[1::2]))
            if entry.get("state") == "succeeded":
                counts[entry.get("job")] += 1
        return counts

    def down(self, failed):
        # The services' Redis and Sentinel events and the sentinels' logs, then (on failure) the
        # tail of everything; the whole log stays in the temp dir's parent for a look later.
        out = self.compose("logs", "--no-color", check=False, timeout=120)
        path = os.path.join(tempfile.gettempdir(), self.name + ".log")
        with open(path, "w") as f:
            f.write(out.stdout)
        events = [line for line in out.stdout.splitlines()
                  if ('"msg":"redis' in line or '"msg":"sentinel' in line or
                      "switch-master" in line or "+odown" in line)]
        print("--- Redis and Sentinel events (whole log: %s) ---" % path)
        print("\n".join(events[-80:]))
        if failed:
            out = self.compose("logs", "--no-color", "--tail=40", check=False, timeout=60)
            sys.stderr.write(out.stdout[-30000:])
        log("tearing down %s" % self.name)
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False,
                     timeout=180)
        shutil.rmtree(self.work, ignore_errors=True)


class Writes:
    """Steady write load through the gateway: each request creates a user with a new email, and
    every JOB_EVERY-th submits a data.copy job of SOURCE_KEY to a key of its own."""

    def __init__(self, port):
        self.port = port
        self.run_id = "%x" % int(time.time() * 1000)
        self.source = "ha/%s/source" % self.run_id

        def step(client, seq):
            if seq % JOB_EVERY == JOB_EVERY - 1:
                target = "ha/%s/copy-%d-%d" % (self.run_id, client, seq)
                return ("job", target, "POST", "/api/jobs", {
                    "type": "data.copy", "payload": {"from": self.source, "to": target}})
            email = "ha-%s-%d-%d@example.com" % (self.run_id, client, seq)
            return ("create", email, "POST", "/api/users", {"name": "HA %d" % seq,
                                                            "email": email})

        self.load = sy.Load(port, CLIENTS, step, timeout=DEADLINE_SECONDS + 10)

    def outcomes(self):
        return self.load.snapshot()

    def succeeded_after(self, t0):
        return any(o.status in ACCEPTED and o.started >= t0 for o in self.outcomes())

    def recovery(self, t0, limit, quiet=2.0):
        """Seconds from t0 until writes succeed again: the end of the first success (started
        after the first failure following t0) after which no request fails for `quiet`
        seconds. 0 when nothing failed within `limit` seconds of t0; None when writes never
        settled within limit + 30 s. Also the failures seen from t0 until then."""
        def measure(now):
            after = [o for o in self.outcomes() if o.finished >= t0]
            failed = sorted(o.started for o in after if o.status not in ACCEPTED)
            if not failed:
                return (0.0 if now - t0 >= limit else "pending"), []
            successes = sorted(
                (o for o in after if o.status in ACCEPTED and o.started >= failed[0]),
                key=lambda o: o.started)
            for success in successes:
                if now < success.started + quiet:
                    break
                next_failure = bisect.bisect_left(failed, success.started)
                if next_failure == len(failed) or failed[next_failure] >= success.started + quiet:
                    until = success.finished
                    return until - t0, [o for o in after
                                        if o.status not in ACCEPTED and o.started <= until]
            return "pending", [o for o in after if o.status not in ACCEPTED]

        result = []
        wait_for(lambda: result.append(measure(time.monotonic())) or
                 result[-1][0] != "pending", limit + 30, 0.2)
        seconds, failures = result[-1]
        return (None if seconds == "pending" else seconds), failures


def statuses(outcomes):
    return statuses_of(collections.Counter(str(o.status or o.error) for o in outcomes))


def statuses_of(counter):
    return ", ".join("%s x%d" % item for item in sorted(counter.items())) or "none"


class Scenario:
    def __init__(self, project, name):
        self.project = project
        self.name = name
        self.writes = Writes(project.http_port)
        self.report = []
        self.problems = []

    def fault(self, label, inject, limit=RECOVERY_LIMIT):
        # Steady state first: writes succeed before the fault.
        t_ready = time.monotonic()
        if not wait_for(lambda: self.writes.succeeded_after(t_ready), 30, 0.1):
            self.problems.append("%s: writes were not succeeding before the fault" % label)
        t0 = time.monotonic()
        detail = inject()
        seconds, failures = self.writes.recovery(t0, limit)
        line = "%s%s: writes succeed again after %s; %d requests failed (%s)" % (
            label, " (%s)" % detail if detail else "",
            "%.2f s" % seconds if seconds is not None else "NEVER", len(failures),
            statuses(failures))
        log(line)
        self.report.append(line)
        if seconds is None or seconds > limit:
            self.problems.append("%s: writes did not succeed again within %.0f s" % (label, limit))
        return seconds

    def await_primary(self, exclude, timeout=60):
        found = []
        ok = wait_for(lambda: (found.append(self.project.primary()) or True) and
                      found[-1] is not None and found[-1] != exclude and
                      self.project.role(found[-1]) == "master", timeout, 0.5)
        return found[-1] if ok else None

    def await_replica(self, node, timeout=60):
        """`node` is a replica of the current primary, in sync."""
        def ok():
            primary = self.project.primary()
            # Both replicas in sync (a node still in its full resync would leave the primary
            # one failure away from refusing writes) before the next fault.
            return (primary is not None and primary != node and
                    self.project.role(node) == "slave" and
                    self.project.online_replicas(primary) == 2)
        if not wait_for(ok, timeout, 0.5):
            self.problems.append("%s did not come back as a replica within %d s" % (node, timeout))
            return False
        return True

    def kill_primary(self, label):
        primary = self.project.primary()
        if primary is None:
            self.problems.append("%s: no sentinel names a primary" % label)
            return
        # Looked up first: docker-compose takes seconds on a busy machine, and the clock starts
        # right before the kill.
        container = self.project.container(primary)
        self.fault(label, lambda: run(["docker", "kill", container]) and "killed %s" % primary)
        new = self.await_primary(primary)
        if new is None:
            self.problems.append("%s: no new primary after killing %s" % (label, primary))
        run(["docker", "start", container])
        self.await_replica(primary)

    def run(self):
        source = sy.request(self.project.http_port, "PUT", "/api/data/" + self.writes.source,
                            body={"value": "copied by ha jobs"})
        if source.status != 200:
            raise AssertionError("writing the jobs' source key: %d %s" % (source.status,
                                                                          source.text))
        self.writes.load.start()
        try:
            getattr(self, "scenario_" + self.name.replace("-", "_"))()
            # Load keeps going a little after the last fault, then stops.
            t_end = time.monotonic()
            wait_for(lambda: self.writes.succeeded_after(t_end), 30, 0.1)
        finally:
            outcomes = self.writes.load.stop()
        return self.verify(outcomes)

    def scenario_kill(self):
        self.kill_primary("kill the primary")

    def scenario_five(self):
        for i in range(5):
            self.kill_primary("failover %d of 5" % (i + 1))

    def scenario_partition(self):
        primary = self.project.primary()
        network = self.project.network()
        container = self.project.container(primary)

        def cut():
            run(["docker", "network", "disconnect", network, container])
            return "%s cut off" % primary

        self.fault("partition the primary", cut, PARTITION_RECOVERY_LIMIT)
        if self.await_primary(primary) is None:
            self.problems.append("no new primary while %s was cut off" % primary)
        # Heal, at the address it had, and it must come back as a replica.
        t_heal = time.monotonic()
        run(["docker", "network", "connect", "--ip", ADDRESSES[primary], "--alias", primary,
             network, container])
        if self.await_replica(primary):
            line = "healed: %s a replica again after %.2f s" % (primary,
                                                               time.monotonic() - t_heal)
            log(line)
            self.report.append(line)

    def scenario_sentinel_replica(self):
        primary = self.project.primary()
        sentinel = SENTINELS[0]
        replica = next(n for n in NODES if n != primary)
        sentinel_container = self.project.container(sentinel)
        replica_container = self.project.container(replica)
        self.fault("kill %s" % sentinel,
                   lambda: run(["docker", "kill", sentinel_container]) and None)
        self.fault("kill the replica %s" % replica,
                   lambda: run(["docker", "kill", replica_container]) and None)
        still = self.project.primary(SENTINELS[1:])
        if still != primary:
            self.problems.append("the primary moved from %s to %s" % (primary, still))

    def verify(self, outcomes):
        acked = {o.key: json.loads(o.body)["id"] for o in outcomes
                 if o.status in ACCEPTED and o.op == "create"}
        jobs = {o.key: json.loads(o.body)["id"] for o in outcomes
                if o.status in ACCEPTED and o.op == "job"}
        failed = [o for o in outcomes if o.status not in ACCEPTED]
        slow = [o for o in outcomes if o.seconds > DEADLINE_SECONDS]
        unanswered = [o for o in outcomes if o.status is None]
        # Read back every acknowledged write, then list the store for duplicate emails.
        if not wait_for(lambda: sy.request(self.project.http_port, "GET",
                                           "/health/ready").status == 200, 60, 0.5):
            self.problems.append("the gateway is not ready after the faults")
        responses = sy.get_each(self.project.http_port,
                                ["/api/users/" + i for i in acked.values()])
        lost = [email for (email, _), r in zip(acked.items(), responses)
                if r.status != 200 or r.json().get("email") != email]
        listed = sy.list_all_users(self.project.http_port)
        duplicates = sum(n - 1 for n in collections.Counter(e for _, e in listed).values()
                         if n > 1)
        summary = ("%s: %d requests, %d acknowledged (%d users, %d jobs), %d failed (%s), "
                   "slowest %.2f s; acknowledged writes lost: %d; duplicate emails: %d" % (
                       self.name, len(outcomes), len(acked) + len(jobs), len(acked), len(jobs),
                       len(failed), statuses(failed),
                       max((o.seconds for o in outcomes), default=0.0), len(lost), duplicates))
        self.report.append(summary)
        self.verify_jobs(jobs)
        if lost and self.project.durable:
            self.problems.append("%d acknowledged writes lost, e.g. %s" % (len(lost), lost[:3]))
        if duplicates:
            self.problems.append("%d duplicate emails" % duplicates)
        if slow:
            self.problems.append("%d requests ran past the deadline, e.g. %r" % (len(slow),
                                                                                slow[:3]))
        if unanswered:
            self.problems.append("%d requests got no answer, e.g. %r" % (len(unanswered),
                                                                        unanswered[:3]))
        bad = [o for o in failed if o.status not in (503, 504, None)]
        if bad:
            self.problems.append("failures other than 503/504: %r" % bad[:3])
        return not self.problems


    def verify_jobs(self, jobs):
        """Every acknowledged job ends (none lost), SUCCEEDED at most once (the job change
        stream holds one `succeeded` event per job), DEAD only with its attempts used up; how
        many copies ran more than once (an attempt cut short by a failover is retried: the
        queue runs attempts at least once, completes a job once) is reported."""
        port = self.project.http_port
        final = {}

        def settled():
            pending = [i for i in jobs.values() if i not in final]
            for job_id, r in zip(pending, sy.get_each(port, ["/api/jobs/" + i for i in pending])):
                body = r.json() if r.status == 200 else {}
                if r.status == 404 or body.get("state") in ("JOB_STATE_SUCCEEDED",
                                                            "JOB_STATE_DEAD"):
                    final[job_id] = (r.status, body)
            return len(final) == len(jobs)

        t0 = time.monotonic()
        if not wait_for(settled, JOBS_SETTLE_SECONDS, 1.0):
            self.problems.append("%d acknowledged jobs had not ended %d s after the load" % (
                len(jobs) - len(final), JOBS_SETTLE_SECONDS))
        lost = [i for i, (status, _) in final.items() if status == 404]
        states = collections.Counter(body.get("state", "missing")
                                     for _, body in final.values())
        dead_early = [(i, body.get("attempts"), body.get("last_error"))
                      for i, (_, body) in final.items()
                      if body.get("state") == "JOB_STATE_DEAD" and
                      body.get("attempts", 0) < body.get("max_attempts", 0)]
        retried = sum(1 for _, body in final.values() if body.get("attempts", 0) > 1)
        succeeded_events = self.project.succeeded_events()
        twice = [i for i in jobs.values() if succeeded_events.get(i, 0) > 1]
        missing_event = [i for i, (_, body) in final.items()
                         if body.get("state") == "JOB_STATE_SUCCEEDED" and
                         succeeded_events.get(i, 0) == 0]
        targets = sy.get_each(port, ["/api/data/" + key for key in jobs])
        copied_again = sum(1 for r in targets if r.status == 200 and
                           int(r.json().get("version", 0)) > 1)
        line = ("jobs: %d acknowledged, ended within %.1f s (%s); lost: %d; SUCCEEDED more "
                "than once: %d; retried after a cut-short attempt: %d; copies run more than "
                "once: %d" % (len(jobs), time.monotonic() - t0, statuses_of(states), len(lost),
                              len(twice), retried, copied_again))
        log(line)
        self.report.append(line)
        if lost and self.project.durable:
            self.problems.append("%d acknowledged jobs lost, e.g. %s" % (len(lost), lost[:3]))
        if twice:
            self.problems.append("%d jobs SUCCEEDED more than once, e.g. %s" % (len(twice),
                                                                                 twice[:3]))
        if missing_event:
            self.problems.append("%d SUCCEEDED jobs have no succeeded event, e.g. %s" % (
                len(missing_event), missing_event[:3]))
        if dead_early:
            self.problems.append("%d jobs DEAD before their attempts ran out, e.g. %r" % (
                len(dead_early), dead_early[:3]))


def main():
    args = sys.argv[1:]
    durable = "--no-durability" not in args
    args = [a for a in args if a != "--no-durability"]
    if len(args) != 1 or args[0] not in SCENARIOS:
        sys.stderr.write("usage: %s {%s} [--no-durability]\n" % (sys.argv[0],
                                                                  "|".join(SCENARIOS)))
        return 2
    skip = int(os.environ.get("SWITCHYARD_SKIP_EXIT_CODE", "0"))
    if shutil.which("docker") is None or run(["docker", "info"], check=False).returncode != 0:
        log("SKIPPED: no Docker engine reachable")
        return skip
    if shutil.which("docker-compose") is None:
        log("docker-compose not found (Debian: apt-get install docker-compose)")
        return 1
    if os.environ.get("SWITCHYARD_HA_SKIP_BUILD") != "1":
        log("building images")
        run(["bash", os.path.join(REPO, "docker", "build-images.sh"), "builder", "gateway",
             "user-service", "data-service"], timeout=3600)
    # ctest's timeout sends SIGTERM: tear the project down on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    project = Project(durable)
    ok = False
    try:
        log("starting %s" % project.name)
        project.up()
        primary = project.primary()
        if primary is None or not wait_for(lambda: project.online_replicas(primary) == 2, 60):
            raise AssertionError("the group did not settle: primary %r" % primary)
        scenario = Scenario(project, args[0])
        ok = scenario.run()
        mode = ("durability mode (REDIS_MIN_REPLICA_ACKS=1)" if durable
                else "without durability mode")
        print("--- report: %s, %s ---" % (scenario.name, mode))
        for line in scenario.report:
            print("  " + line)
        for problem in scenario.problems:
            print("  FAIL: " + problem)
        return 0 if ok else 1
    finally:
        project.down(not ok)


if __name__ == "__main__":
    sys.exit(main())
