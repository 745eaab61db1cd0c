#!/usr/bin/env python3
"""How far `telepact demo-server --memory-limit` bounds the process's memory.

For each way a caller can make the demo keep something (many users, many variables,
many sessions, a long paper tape), starts the demo with the given limit, fills it until
it answers ErrorUnavailable (or, for the tape, which drops its oldest lines instead,
for a fixed number of calls), and prints how much the resident memory grew, against
the limit.

Usage: bench/demo-memory.py [limit in MiB (default 64)]
Env:   TELEPACT_BIN (the binary to run; default target/release/telepact, built first
       unless NO_BUILD is set).

Loopback only; each server is stopped when its line is printed. Needs Linux (/proc).
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALL_CAP = 400_000
TAPE_CALLS = 60_000


def start(binary, limit):
    server = subprocess.Popen(
        [binary, "demo-server", "--host", "127.0.0.1", "--port", "0",
         "--unavailable-rate", "0", "--memory-limit", str(limit)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = server.stdout.readline()
    if not ready.startswith("READY "):
        server.kill()
        sys.exit(f"the demo did not start: {ready!r}")
    return server, int(ready.split()[1])


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def call(port, headers, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api", data=json.dumps([headers, body]).encode(),
        method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())[1]


def as_user(name):
    return {"@auth_": {"Ephemeral": {"username": name}}}


def deep_expression():
    expression = {"Constant": {"value": 1}}
    for _ in range(40):
        variable = {"Variable": {"name": "n" * 50}}
        expression = {"Add": {"left": expression, "right": variable}}
    return expression


# Each filler makes call number `n` of its kind: (headers, body).
FILLERS = {
    "users": lambda n: (as_user(f"user-{n}"), {"fn.saveVariable": {"name": "x", "value": 1}}),
    "variables": lambda n: (
        as_user(f"u{n % 50}"),
        {"fn.saveVariables": {"variables": {f"v{n}_{i}": i for i in range(1000)}}}),
    "sessions": lambda n: ({}, {"fn.login": {"username": f"user-{n}"}}),
    "tape": lambda n: (as_user(f"u{n % 200}"), {"fn.evaluate": {"expression": deep_expression()}}),
}


def fill(binary, limit, kind):
    server, port = start(binary, limit)
    try:
        before = resident_mib(server.pid)
        cap = TAPE_CALLS if kind == "tape" else CALL_CAP
        calls = 0
        while calls < cap:
            calls += 1
            answer = call(port, *FILLERS[kind](calls))
            if "ErrorUnavailable" in answer:
                break
        grown = resident_mib(server.pid) - before
        print(f"{kind:>9}: {calls:>6} calls, resident memory {before:.0f} -> "
              f"{before + grown:.0f} MiB, grown {grown:.0f} MiB = "
              f"{grown / (limit / 2**20):.2f} x the limit")
    finally:
        server.kill()
        server.wait()


def main():
    limit = int(sys.argv[1]) * 2**20 if len(sys.argv) > 1 else 64 * 2**20
    binary = os.environ.get("TELEPACT_BIN", os.path.join(ROOT, "target/release/telepact"))
    if "TELEPACT_BIN" not in os.environ and not os.environ.get("NO_BUILD"):
        subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "telepact-cli",
                        "--bin", "telepact"], cwd=ROOT, check=True)
    print(f"limit {limit // 2**20} MiB, {binary}")
    for kind in FILLERS:
        fill(binary, limit, kind)


if __name__ == "__main__":
    main()
