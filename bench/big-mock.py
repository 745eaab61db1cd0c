#!/usr/bin/env python3
"""Drives a running `telepact mock` of a `bench/big-schema.py` schema and times its answers.

Prints one `name value` line per figure: the size and time of `fn.api_` (its first call,
and the mean of five more), the time of a generated answer for a function whose result
nests five levels deep, the time of a call answered by a stub with 1, 100, 1,000 and
10,000 stubs in place (each stub of another argument, the matching one the oldest, so
every call looks through all of them), and of `fn.verify_` over 10,000 recorded calls.
One keep-alive connection, loopback only, a bounded number of requests.

Usage: bench/big-mock.py PORT [--stubs 10000] [--calls 10000]
"""

import argparse
import http.client
import json
import time


class Mock:
    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, function, argument, headers=None):
        body = json.dumps([headers or {}, {function: argument}]).encode()
        self.connection.request("POST", "/api", body=body)
        response = self.connection.getresponse()
        data = response.read()
        return data

    def timed(self, function, argument, headers=None, repeat=1):
        started = time.perf_counter()
        for _ in range(repeat):
            data = self.call(function, argument, headers)
        return (time.perf_counter() - started) / repeat, data


def first_function(api):
    for definition in api:
        for key in definition:
            if key.startswith("fn.") and not key.endswith("_"):
                return key
    raise SystemExit("no function in fn.api_")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--stubs", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    mock = Mock(args.port)

    seconds, data = mock.timed("fn.api_", {})
    print(f"api_bytes {len(data)}")
    print(f"api_ms {seconds * 1000:.1f}")
    seconds, _ = mock.timed("fn.api_", {}, repeat=5)
    print(f"api_again_ms {seconds * 1000:.1f}")
    api = json.loads(data)[1]["Ok_"]["api"]
    function = first_function(api)

    mock.call("fn.setRandomSeed_", {"seed": 7})
    seconds, data = mock.timed(function, {"requestId": "generated"}, {"@unsafe_": True}, repeat=20)
    print(f"generated_answer_ms {seconds * 1000:.2f}")
    print(f"generated_answer_bytes {len(data)}")

    # The stub that matches is created first, so the newest-first search passes all others.
    mock.call("fn.createStub_", {"stub": {function: {"requestId": "match"}, "->": {"Ok_": {}}}})
    created = 1
    for target in (1, 100, 1_000, 10_000):
        if target > args.stubs:
            break
        while created < target:
            stub = {function: {"requestId": f"other{created}"}, "->": {"Ok_": {}}}
            mock.call("fn.createStub_", {"stub": stub})
            created += 1
        seconds, _ = mock.timed(function, {"requestId": "match"}, {"@unsafe_": True}, repeat=20)
        print(f"stubbed_answer_ms_{target} {seconds * 1000:.2f}")
    seconds, _ = mock.timed("fn.createStub_", {"stub": {function: {"requestId": "x"}, "->": {"Ok_": {}}}})
    print(f"create_stub_ms_at_{created} {seconds * 1000:.2f}")

    mock.call("fn.clearStubs_", {})
    mock.call("fn.clearCalls_", {})
    started = time.perf_counter()
    for i in range(args.calls):
        mock.call(function, {"requestId": f"call{i}"}, {"@unsafe_": True})
    print(f"recorded_calls_s_{args.calls} {time.perf_counter() - started:.2f}")
    seconds, data = mock.timed("fn.verify_", {"call": {function: {"requestId": f"call{args.calls - 1}"}}})
    print(f"verify_ms_{args.calls} {seconds * 1000:.2f}")
    seconds, data = mock.timed(
        "fn.verify_", {"call": {function: {"requestId": "never"}}}
    )
    print(f"verify_failed_ms_{args.calls} {seconds * 1000:.2f} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
