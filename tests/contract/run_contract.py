#!/usr/bin/env python3
"""Runs the data-driven REST contract cases in tests/contract/cases/*.json against a live gateway.

Each case file holds an ordered list of requests and what a REST client must see:

  {"name": "create a user", "method": "POST", "path": "/api/users",
   "headers": {"X-Request-ID": "contract-1"}, "body": {"name": "Ada", "email": "ada-${run}@x.org"},
   "expect": {"status": 201, "headers": {"Location": "/api/users/${id}"},
              "json": {"name": "Ada", "id": "<uuid>", "details.0.request_id": "<any>"}},
   "capture": {"id": "id"}}

Strings may use ${var}: `run` is unique per run, `big` is 64 KiB + 1 of text; `capture` stores
response fields (dotted paths) under names for later cases. Expected JSON values are exact, or one of the matchers <any>,
<absent>, <uuid>, <timestamp>, <nonempty>, <empty>. "raw_body" sends text as is and
"body_bytes": N sends N bytes of 'x'. Exits non-zero when any case fails; prints one line per case.
"""

import argparse
import glob
import http.client
import json
import os
import re
import sys
import uuid
from urllib.parse import urlsplit

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_MISSING = object()


def substitute(value, variables):
    if isinstance(value, str):
        return re.sub(r"\$\{(\w+)\}", lambda m: str(variables[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def lookup(document, path):
    current = document
    for part in path.split("."):
        if isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def check_value(path, actual, expected):
    """Returns an error string, or None when `actual` satisfies `expected`."""
    if expected == "<absent>":
        return None if actual is _MISSING else f"{path}: expected absent, got {actual!r}"
    if actual is _MISSING:
        return f"{path}: missing"
    if expected == "<any>":
        return None
    if expected == "<uuid>":
        return None if isinstance(actual, str) and UUID_RE.match(actual) else f"{path}: {actual!r} is not a UUIDv4"
    if expected == "<timestamp>":
        return None if isinstance(actual, str) and TIMESTAMP_RE.match(actual) else f"{path}: {actual!r} is not RFC 3339"
    if expected == "<nonempty>":
        return None if actual not in ("", [], {}, None) else f"{path}: empty"
    if expected == "<empty>":
        return None if actual in ("", [], {}) else f"{path}: expected empty, got {actual!r}"
    if isinstance(expected, str) and expected.startswith("<contains:") and expected.endswith(">"):
        needle = expected[len("<contains:"):-1]
        return None if isinstance(actual, str) and needle in actual else f"{path}: {actual!r} lacks {needle!r}"
    if isinstance(expected, str) and expected.startswith("<length:") and expected.endswith(">"):
        want = int(expected[len("<length:"):-1])
        return None if isinstance(actual, list) and len(actual) == want else f"{path}: length is not {want}: {actual!r}"
    return None if actual == expected else f"{path}: expected {expected!r}, got {actual!r}"


def run_case(base, case, variables):
    method = case["method"]
    path = substitute(case["path"], variables)
    headers = substitute(case.get("headers", {}), variables)
    body = None
    if "body" in case:
        body = json.dumps(substitute(case["body"], variables)).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "raw_body" in case:
        body = substitute(case["raw_body"], variables).encode()
    elif "body_bytes" in case:
        body = b"x" * case["body_bytes"]
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=15)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        status = response.status
        response_headers = {k.lower(): v for k, v in response.getheaders()}
    except (ConnectionError, http.client.HTTPException) as error:
        return [f"request failed: {error}"]
    finally:
        connection.close()

    errors = []
    expect = case.get("expect", {})
    document = None
    if raw:
        try:
            document = json.loads(raw)
        except ValueError:
            document = _MISSING
    for name, path_ in case.get("capture", {}).items():
        value = lookup(document, path_) if isinstance(document, (dict, list)) else _MISSING
        if value is _MISSING:
            errors.append(f"capture {name}: {path_} missing")
        else:
            variables[name] = value
    expect = substitute(expect, variables)
    if "status" in expect and status != expect["status"]:
        errors.append(f"status: expected {expect['status']}, got {status} ({raw[:200]!r})")
    for name, expected in expect.get("headers", {}).items():
        actual = response_headers.get(name.lower(), _MISSING)
        problem = check_value(f"header {name}", actual, expected)
        if problem:
            errors.append(problem)
    if expect.get("empty_body") and raw:
        errors.append(f"body: expected none, got {raw[:200]!r}")
    if "json" in expect:
        if not isinstance(document, (dict, list)):
            errors.append(f"body is not JSON: {raw[:200]!r}")
        else:
            for path_, expected in expect["json"].items():
                problem = check_value(path_, lookup(document, path_), expected)
                if problem:
                    errors.append(problem)
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("SWITCHYARD_BASE_URL"),
                        help="the gateway, e.g. http://127.0.0.1:8080 (default: $SWITCHYARD_BASE_URL)")
    parser.add_argument("--cases", default=os.path.join(os.path.dirname(__file__), "cases"))
    args = parser.parse_args()
    if not args.base_url:
        parser.error("give --base-url or set SWITCHYARD_BASE_URL")
    base = urlsplit(args.base_url)

    passed = failed = 0
    for case_file in sorted(glob.glob(os.path.join(args.cases, "*.json"))):
        with open(case_file, encoding="utf-8") as handle:
            suite = json.load(handle)
        variables = {"run": uuid.uuid4().hex[:12], "big": "x" * (64 * 1024 + 1)}
        for case in suite["cases"]:
            label = f"{os.path.basename(case_file)}: {case['name']}"
            errors = run_case(base, case, variables)
            if errors:
                failed += 1
                print(f"FAIL {label}")
                for error in errors:
                    print(f"     {error}")
            else:
                passed += 1
                print(f"ok   {label}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
