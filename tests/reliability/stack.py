"""Real Switchyard processes for the reliability tests, one process at a time.

Starts redis-server, user-service, data-service and the gateway from a build directory's binaries
the way scripts/up.sh does (Redis with a generated password passed on stdin, AOF on with the
default appendfsync everysec, no RDB; the services get the password through REDIS_PASSWORD, never
argv; every port on 127.0.0.1), but keeps a handle on each process so a test can kill -9, stop,
pause or restart one of them on the same port while load runs.

Also: a small blocking HTTP client with per-request timing, a load driver, a RESP client for
looking into Redis, and Prometheus text parsing. Python standard library only.

The build directory comes from SWITCHYARD_BUILD_DIR (ctest sets it). SWITCHYARD_LONG=1 makes the
tests run their long variants.
"""

import collections
import ctypes
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

LONG = os.environ.get("SWITCHYARD_LONG") == "1"
LOOPBACK = "127.0.0.1"

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_test():
    # The process dies with the test (even when ctest kills it on a timeout).
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def build_dir():
    path = os.environ.get("SWITCHYARD_BUILD_DIR")
    if not path:
        raise RuntimeError("set SWITCHYARD_BUILD_DIR to a build directory (e.g. build/dev)")
    return os.path.abspath(path)


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.2):
            return True
    except OSError:
        return False


def run_command(argv, timeout=120, check=True, env=None, input=None):
    """Runs argv to its end with its output captured as text; with `check`, an AssertionError
    naming the command and the end of its stderr (else stdout) when it fails."""
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=timeout, env=env, input=input)
    if check and result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-3000:]
        raise AssertionError("%s failed (%d): %s" % (" ".join(argv), result.returncode, output))
    return result


def wait_for(predicate, timeout, interval=0.02):
    """Calls predicate until it is truthy or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Process:
    """One child process whose stdout and stderr go to a log file (appended across restarts)."""

    def __init__(self, name, argv, env, log_path, stdin_text=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.stdin_text = stdin_text
        self.popen = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.PIPE if self.stdin_text is not None else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_test,
            )
        if self.stdin_text is not None:
            self.popen.stdin.write(self.stdin_text.encode())
            self.popen.stdin.close()
        return self

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def wait(self, timeout):
        """The exit status, or None if still running after timeout seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill9(self):
        self.send(signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout seconds. Returns the exit status."""
        if self.popen is None:
            return None
        if self.alive():
            self.send(signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self.send(signal.SIGTERM)
        status = self.wait(timeout)
        if status is None:
            self.kill9()
            status = self.popen.returncode
        return status

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def cmdline(self):
        try:
            with open("/proc/%d/cmdline" % self.pid, "rb") as f:
                return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            return ""

    def rss_bytes(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def sanitized(self):
        """Whether the process runs with AddressSanitizer (its RSS then includes ASan's
        quarantine of freed memory, and LeakSanitizer checks for leaks at exit)."""
        with open("/proc/%d/maps" % self.pid) as f:
            return "libasan" in f.read()

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))


class Stack:
    """Redis, user-service, optionally data-service(s), and the gateway, on free loopback ports.

    Use as a context manager; every process is stopped (SIGTERM, then SIGKILL) on exit and the
    state directory removed.
    """

    def __init__(self, gateway_env=None, user_env=None):
        self.build = build_dir()
        self.run_dir = tempfile.mkdtemp(prefix="switchyard-reliability-")
        os.makedirs(os.path.join(self.run_dir, "redis"))
        # As up.sh: 24 random bytes, base64 without '/', '+' and '='.
        self.password = secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
        self.redis_port = free_port()
        self.user_port = free_port()
        self.user_metrics_port = free_port()
        self.http_port = free_port()
        self.gateway_metrics_port = free_port()
        self.gateway_env = dict(gateway_env or {})
        self.user_env = dict(user_env or {})
        self.processes = {}
        self.data_services = []  # (name, grpc port, metrics port)

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop_all()
        if exc_type is not None:  # a failing test: show what the processes said
            sys.stderr.write(self.log_tails() + "\n")
        shutil.rmtree(self.run_dir, ignore_errors=True)
        return False

    def _env(self, extra):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "info"}
        # Sanitizer settings pass through (the asan preset's ctest sets them).
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                env[name] = os.environ[name]
        env.update(extra)
        return {k: str(v) for k, v in env.items()}

    def _spawn(self, name, argv, env, stdin_text=None):
        log_path = os.path.join(self.run_dir, name + ".log")
        process = Process(name, argv, env, log_path, stdin_text).start()
        self.processes[name] = process
        return process

    def start_redis(self):
        # The password reaches redis-server through its config on stdin, not its command line.
        argv = ["redis-server", "-", "--bind", LOOPBACK, "--port", str(self.redis_port),
                "--dir", os.path.join(self.run_dir, "redis"), "--appendonly", "yes",
                "--save", "", "--logfile", ""]
        process = self._spawn("redis", argv, self._env({}), "requirepass %s\n" % self.password)
        if not wait_for(lambda: self._redis_answers() or not process.alive(), 10):
            raise RuntimeError("redis-server did not answer within 10 s:\n" + process.log())
        if not process.alive():
            raise RuntimeError("redis-server exited:\n" + process.log())
        return process

    def _redis_answers(self):
        try:
            return self.redis("PING") == "PONG"
        except (OSError, RuntimeError):
            return False

    def start_user_service(self):
        env = self._env({
            "REDIS_ADDR": "%s:%d" % (LOOPBACK, self.redis_port),
            "REDIS_PASSWORD": self.password,
            "GRPC_LISTEN": "%s:%d" % (LOOPBACK, self.user_port),
            "METRICS_LISTEN": "%s:%d" % (LOOPBACK, self.user_metrics_port),
            "SHUTDOWN_GRACE_MS": 2000,
            **self.user_env,
        })
        process = self._spawn("user-service", [self.binary("user-service")], env)
        self._wait_listening(process, self.user_port)
        return process

    def start_data_service(self, name="data-service", port=None, metrics_port=None, env=None):
        port = port or free_port()
        metrics_port = metrics_port or free_port()
        full_env = self._env({
            "REDIS_ADDR": "%s:%d" % (LOOPBACK, self.redis_port),
            "REDIS_PASSWORD": self.password,
            "GRPC_LISTEN": "%s:%d" % (LOOPBACK, port),
            "METRICS_LISTEN": "%s:%d" % (LOOPBACK, metrics_port),
            "USER_SERVICE_ADDR": "%s:%d" % (LOOPBACK, self.user_port),
            "SHUTDOWN_GRACE_MS": 2000,
            **(env or {}),
        })
        process = self._spawn(name, [self.binary("data-service")], full_env)
        self._wait_listening(process, port)
        self.data_services.append((name, port, metrics_port))
        return process, port, metrics_port

    def start_gateway(self, data_service_port=None):
        env = {
            "HTTP_LISTEN": "%s:%d" % (LOOPBACK, self.http_port),
            "METRICS_LISTEN": "%s:%d" % (LOOPBACK, self.gateway_metrics_port),
            "USER_SERVICE_ADDR": "%s:%d" % (LOOPBACK, self.user_port),
            "DATA_SERVICE_ADDR":
                "%s:%d" % (LOOPBACK, data_service_port) if data_service_port else "",
            "SHUTDOWN_GRACE_MS": 5000,
        }
        env.update(self.gateway_env)
        process = self._spawn("gateway", [self.binary("gateway")], self._env(env))
        self._wait_listening(process, self.http_port)
        return process

    def start(self, data_service=False):
        """Redis, user-service, [data-service,] gateway; waits until /health/ready is 200."""
        self.start_redis()
        self.start_user_service()
        data_port = None
        if data_service:
            _, data_port, _ = self.start_data_service()
        self.start_gateway(data_port)
        self.wait_ready()
        return self

    def binary(self, name):
        path = os.path.join(self.build, name, name)
        if not os.access(path, os.X_OK):
            raise RuntimeError("missing %s: build the tree first" % path)
        return path

    def _wait_listening(self, process, port, timeout=15):
        if not wait_for(lambda: port_open(port) or not process.alive(), timeout):
            raise RuntimeError("%s did not listen on %d within %d s:\n%s"
                               % (process.name, port, timeout, process.log()[-3000:]))
        if not process.alive():
            raise RuntimeError("%s exited at start:\n%s" % (process.name, process.log()[-3000:]))

    def wait_ready(self, timeout=20):
        def ready():
            try:
                return self.get("/health/ready", timeout=2).status == 200
            except OSError:
                return False
        if not wait_for(ready, timeout, interval=0.05):
            raise RuntimeError("the stack was not ready within %d s; last answer: %s\n%s"
                               % (timeout, self._last_ready(), self.log_tails()))

    def _last_ready(self):
        try:
            return self.get("/health/ready", timeout=2).text
        except OSError as e:
            return repr(e)

    def stop_all(self):
        # The gateway first, so it drains before its upstreams go away; Redis last.
        order = ["gateway"] + [n for n in self.processes if n not in ("gateway", "redis")] + ["redis"]
        statuses = {}
        for name in order:
            if name in self.processes:
                statuses[name] = self.processes[name].stop()
        return statuses

    def __getitem__(self, name):
        return self.processes[name]

    # --- looking in -------------------------------------------------------------------------------

    def get(self, path, timeout=5, headers=None):
        return request(self.http_port, "GET", path, timeout=timeout, headers=headers)

    def metrics(self, port):
        return parse_metrics(request(port, "GET", "/metrics", timeout=5).text)

    def redis(self, *args):
        """One command on a fresh connection (AUTH first); the decoded reply."""
        return resp_command(self.redis_port, self.password, *args)

    def log_tails(self, lines=40):
        out = []
        for name, process in self.processes.items():
            tail = process.log().splitlines()[-lines:]
            out.append("--- %s (last %d lines) ---\n%s" % (name, len(tail), "\n".join(tail)))
        return "\n".join(out)

    def secret_leaks(self):
        """Where the Redis password shows: any process's log or command line."""
        found = []
        for name, process in self.processes.items():
            if self.password in process.log():
                found.append(name + " log")
            if process.alive() and self.password in process.cmdline():
                found.append(name + " argv")
        return found


# --- HTTP -----------------------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def request(port, method, path, body=None, headers=None, timeout=10, connection=None):
    """One HTTP request (on `connection` when given, else a fresh one); raises OSError/HTTPException
    when no response arrives."""
    own = connection is None
    conn = connection or http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    all_headers = dict(headers or {})
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                        time.monotonic() - started)
    finally:
        if own:
            conn.close()


class Outcome:
    """One request as a load client saw it."""

    __slots__ = ("client", "op", "key", "started", "finished", "status", "error", "body")

    def __init__(self, client, op, key, started, finished, status, error, body):
        self.client = client
        self.op = op
        self.key = key
        self.started = started
        self.finished = finished
        self.status = status    # HTTP status, or None when no response arrived
        self.error = error      # the exception's class name when no response arrived
        self.body = body

    @property
    def seconds(self):
        return self.finished - self.started

    def __repr__(self):
        return "<%s %s %s at %.3f: %s in %.3fs %s>" % (
            self.op, self.key, self.client, self.started, self.status or self.error,
            self.seconds, (self.body or b"")[:200])


class Load:
    """N client threads, each on its own keep-alive connection, calling step(client, conn) in a
    loop until stop(). step returns (op, key, method, path, body); the outcome is recorded.
    A connection that fails is replaced (after `reconnect_pause` seconds)."""

    def __init__(self, port, clients, step, timeout=10, pause=0.0, reconnect_pause=0.01):
        self.port = port
        self.step = step
        self.timeout = timeout
        self.pause = pause
        self.reconnect_pause = reconnect_pause
        self.outcomes = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(clients)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self, join_timeout=30):
        self._stop.set()
        for t in self._threads:
            t.join(join_timeout)
        hung = [t for t in self._threads if t.is_alive()]
        if hung:
            raise AssertionError("%d load clients did not stop (a request hangs)" % len(hung))
        return self.outcomes

    def snapshot(self):
        with self._lock:
            return list(self.outcomes)

    def _run(self, client):
        conn = None
        seq = 0
        while not self._stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout)
            op, key, method, path, body = self.step(client, seq)
            seq += 1
            started = time.monotonic()
            try:
                r = request(self.port, method, path, body=body, connection=conn)
                outcome = Outcome(client, op, key, started, time.monotonic(), r.status, None,
                                  r.body)
                if r.headers.get("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                outcome = Outcome(client, op, key, started, time.monotonic(), None,
                                  type(e).__name__, None)
                conn.close()
                conn = None
                time.sleep(self.reconnect_pause)
            with self._lock:
                self.outcomes.append(outcome)
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()


def list_all_users(port, page_size=100):
    """Every user, through the gateway's paginated listing; [(id, email)]."""
    users = []
    token = ""
    pages = 0
    while True:
        path = "/api/users?page_size=%d" % page_size
        if token:
            path += "&page_token=" + token
        r = request(port, "GET", path, timeout=10)
        if r.status != 200:
            raise AssertionError("listing failed: %d %s" % (r.status, r.text))
        page = r.json()
        users.extend((u["id"], u["email"]) for u in page.get("users", []))
        token = page.get("next_page_token", "")
        pages += 1
        if not token:
            return users
        if pages > 100000:
            raise AssertionError("listing does not end")


def get_each(port, paths, workers=3, timeout=10):
    """GET every path on `workers` threads, each on one keep-alive connection; [Response] in
    order (a request without a response is retried once on a new connection)."""
    results = [None] * len(paths)
    index = iter(range(len(paths)))
    lock = threading.Lock()

    def work():
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                conn.close()
                return
            try:
                results[i] = request(port, "GET", paths[i], connection=conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
                results[i] = request(port, "GET", paths[i], connection=conn)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def latency_summary(outcomes):
    seconds = [o.seconds for o in outcomes]
    return "n=%d p50=%.1fms p99=%.1fms max=%.1fms" % (
        len(seconds), percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000,
        (max(seconds) if seconds else 0) * 1000)


def report_phase(round_number, phase, outcomes):
    """One report line for a phase of a fault round: how its requests ended (status or error)."""
    ends = collections.Counter(o.status or o.error for o in outcomes)
    report("round %d: %-6s %s %s" % (round_number, phase, dict(ends), latency_summary(outcomes)))


# --- Prometheus text --------------------------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def parse_metrics(text):
    """{(name, frozenset of label pairs): value}"""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def metric(samples, name, **labels):
    """The sum of `name`'s samples whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


# --- Redis (RESP) -----------------------------------------------------------------------------------


def resp_command(port, password, *args):
    with socket.create_connection((LOOPBACK, port), timeout=5) as s:
        f = s.makefile("rb")
        commands = [("AUTH", password), args] if password else [args]
        for command in commands:
            payload = b"*%d\r\n" % len(command)
            for arg in command:
                arg = arg if isinstance(arg, bytes) else str(arg).encode()
                payload += b"$%d\r\n%s\r\n" % (len(arg), arg)
            s.sendall(payload)
        reply = None
        for _ in commands:
            reply = _resp_read(f)
        return reply


def _resp_read(f):
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise RuntimeError("unexpected RESP reply: %r" % line)


# --- test plumbing ----------------------------------------------------------------------------------


class StackTestCase(unittest.TestCase):
    """Checks that no log or command line shows the Redis password."""

    def assertNoSecretLeaks(self, stack):
        leaks = stack.secret_leaks()
        self.assertEqual(leaks, [], "the Redis password shows in: %s" % leaks)


def report(*parts):
    """A line for the test's output (ctest shows it with --output-on-failure or -V)."""
    print("reliability:", *parts, flush=True)


def main():
    unittest.main(verbosity=2)
