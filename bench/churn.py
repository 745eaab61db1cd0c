#!/usr/bin/env python3
"""Connection churn against a Telepact HTTP service on loopback (see churn.sh).

Opens and ends connections by the thousand, each from one of many loopback addresses
(127.10.x.y), in every way a client ends one: answered and closed, reset mid-call,
half-closed, never sending a byte, sending half a head or half a body; HTTP/2
connections (prior knowledge) with streams reset; WebSocket sessions opened and
dropped; and, against the auth example, failed logins under ever-new usernames and
successful ones whose token families and sessions are abandoned. Prints one JSON line
of outcome counts. Loopback only: the target must be a 127.0.0.0/8 address.
"""

import argparse
import base64
import ipaddress
import json
import os
import socket
import struct
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

PING = b'[{}, {"fn.ping_": {}}]'


def client_address(index, spread):
    """The index-th of `spread` loopback addresses 127.10.x.y (y from 1 to 250)."""
    n = index % spread
    return f"127.10.{n // 250}.{n % 250 + 1}"


class Target:
    def __init__(self, host, port, path, spread, timeout):
        if not ipaddress.ip_address(host).is_loopback:
            sys.exit("churn.py: the target must be a loopback address")
        self.host, self.port, self.path = host, port, path
        self.spread, self.timeout = spread, timeout

    def connect(self, index):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((client_address(index, self.spread), 0))
        sock.settimeout(self.timeout)
        sock.connect((self.host, self.port))
        return sock


def reset(sock):
    """Closes with a reset (RST) rather than a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def post_head(path, length, extra=""):
    return (
        f"POST {path} HTTP/1.1\r\nHost: churn\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def read_response(sock):
    """The status of one HTTP/1 answer, read whole; None when the connection ended."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return status


def http1(target, index, body=PING, extra=""):
    """One HTTP/1 connection, ended in the way `index` picks."""
    kind = HTTP1_KINDS[index % len(HTTP1_KINDS)]
    sock = target.connect(index)
    request = post_head(target.path, len(body), extra) + body
    try:
        if kind == "answered":
            sock.sendall(request)
            status = read_response(sock)
            sock.close()
            return f"{kind}:{status}"
        if kind == "keep-alive":
            sock.sendall(request)
            first = read_response(sock)
            sock.sendall(request)
            second = read_response(sock)
            sock.close()
            return f"{kind}:{first}/{second}"
        if kind == "reset-mid-call":
            sock.sendall(request)
            reset(sock)
            return kind
        if kind == "half-closed":
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            status = read_response(sock)
            sock.close()
            return f"{kind}:{status}"
        if kind == "silent":
            sock.close()
            return kind
        if kind == "silent-reset":
            reset(sock)
            return kind
        if kind == "half-head":
            sock.sendall(request[:20])
            sock.close()
            return kind
        if kind == "half-body":
            sock.sendall(post_head(target.path, 1000, extra) + body[:10])
            reset(sock)
            return kind
        raise ValueError(kind)
    except OSError as error:
        sock.close()
        return f"{kind}:error:{type(error).__name__}"


HTTP1_KINDS = [
    "answered",
    "keep-alive",
    "reset-mid-call",
    "half-closed",
    "silent",
    "silent-reset",
    "half-head",
    "half-body",
]


def hpack_integer(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = [first_byte | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def hpack(headers):
    """Literal header fields without indexing, new names, no Huffman coding."""
    out = b""
    for name, value in headers:
        name, value = name.encode(), value.encode()
        out += b"\x00" + hpack_integer(len(name), 7) + name
        out += hpack_integer(len(value), 7) + value
    return out


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0, 1, 3, 4, 7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def h2_request_headers(target, length):
    return hpack(
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", target.path),
            (":authority", "churn"),
            ("content-type", "application/json"),
            ("content-length", str(length)),
        ]
    )


def read_h2_answer(sock, stream):
    """Reads frames until `stream` ends; True when it did."""
    buffered = b""
    while True:
        while len(buffered) >= 9:
            length = int.from_bytes(buffered[:3], "big")
            if len(buffered) < 9 + length:
                break
            kind, flags = buffered[3], buffered[4]
            stream_id = int.from_bytes(buffered[5:9], "big") & 0x7FFFFFFF
            buffered = buffered[9 + length :]
            if kind == SETTINGS and not flags & ACK:
                sock.sendall(frame(SETTINGS, ACK, 0))
            if stream_id == stream and kind in (DATA, HEADERS) and flags & END_STREAM:
                return True
            if kind == GOAWAY or (kind == RST_STREAM and stream_id == stream):
                return False
        chunk = sock.recv(65536)
        if not chunk:
            return False
        buffered += chunk


def h2(target, index, body=PING):
    """An HTTP/2 connection: one call answered, one reset with half its body sent, one
    reset at once; then closed or reset."""
    sock = target.connect(index)
    try:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))
        headers = h2_request_headers(target, len(body))
        sock.sendall(
            frame(HEADERS, END_HEADERS, 1, headers)
            + frame(DATA, END_STREAM, 1, body)
            + frame(HEADERS, END_HEADERS, 3, headers)
            + frame(DATA, 0, 3, body[:5])
            + frame(RST_STREAM, 0, 3, struct.pack(">I", 8))
            + frame(HEADERS, END_HEADERS, 5, headers)
            + frame(RST_STREAM, 0, 5, struct.pack(">I", 8))
        )
        answered = read_h2_answer(sock, 1)
        if index % 2:
            reset(sock)
        else:
            sock.close()
        return f"h2:{'answered' if answered else 'unanswered'}"
    except OSError as error:
        sock.close()
        return f"h2:error:{type(error).__name__}"


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    if length < 126:
        size = bytes([0x80 | length])
    else:
        size = bytes([0x80 | 126]) + struct.pack(">H", length)
    return bytes([0x80 | opcode]) + size + mask + masked


def read_ws_frame(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("ended")
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", exactly(8))[0]
    return first & 0x0F, exactly(length)


def ws(target, index, body=PING):
    """A WebSocket session: one message answered, then dropped (reset, closed without a
    close frame, or closed properly), or left after the upgrade with nothing sent."""
    sock = target.connect(index)
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = (
        f"GET {target.path} HTTP/1.1\r\nHost: churn\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    try:
        sock.sendall(upgrade)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                return "ws:refused"
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            return "ws:not-upgraded"
        ending = index % 4
        if ending == 3:
            sock.close()
            return "ws:upgraded-then-closed"
        sock.sendall(ws_frame(0x1, body))
        opcode, _ = read_ws_frame(sock)
        if ending == 0:
            reset(sock)
        elif ending == 1:
            sock.close()
        else:
            sock.sendall(ws_frame(0x8, struct.pack(">H", 1000)))
            read_ws_frame(sock)
            sock.close()
        return f"ws:answered:{opcode}"
    except OSError as error:
        sock.close()
        return f"ws:error:{type(error).__name__}"


def login(target, index, username, password, session=False):
    """A `fn.login` with Basic credentials; answers the result tag and the body."""
    body = json.dumps([{}, {"fn.login": {"session!": True} if session else {}}]).encode()
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    sock = target.connect(index)
    try:
        sock.sendall(post_head(target.path, len(body), f"Authorization: Basic {basic}\r\n") + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
        sock.close()
        answer = json.loads(data.partition(b"\r\n\r\n")[2])
        return next(iter(answer[1])), answer[1]
    except (OSError, ValueError, IndexError) as error:
        sock.close()
        return f"error:{type(error).__name__}", None


def call(target, index, body, authorization):
    sock = target.connect(index)
    try:
        extra = f"Authorization: {authorization}\r\n" if authorization else ""
        sock.sendall(post_head(target.path, len(body), extra) + body)
        status = read_response(sock)
        sock.close()
        return status
    except OSError:
        sock.close()
        return None


def failed_login(target, index):
    tag, _ = login(target, index, f"nobody-{index}-{os.getpid()}", "wrong password")
    return f"failed-login:{tag}"


def abandoned_login(target, index, username, password):
    """A good login (every other one opening a session too) whose tokens are abandoned:
    refreshed once, or twice with the same refresh token (a reuse), or left."""
    tag, body = login(target, index, username, password, session=index % 2 == 0)
    if tag != "Ok_":
        return f"login:{tag}"
    refresh = body["Ok_"]["refreshToken"]
    exchange = json.dumps([{}, {"fn.refresh": {"refreshToken": refresh}}]).encode()
    for _ in range(index % 3):
        call(target, index, exchange, None)
    return "login:Ok_"


def run(workers, count, job):
    outcomes = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + ARGS.time_limit

    def one(index):
        if time.monotonic() > deadline:
            return
        outcome = job(index)
        with lock:
            outcomes[outcome] += 1

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))
    return outcomes


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["http1", "h2", "ws", "failed-logins", "logins"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--path", default="/api/telepact")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--addresses", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--body", default=PING.decode(), help="the message sent (fn.ping_)")
    global ARGS
    ARGS = parser.parse_args()
    target = Target(ARGS.host, ARGS.port, ARGS.path, ARGS.addresses, ARGS.timeout)
    body = ARGS.body.encode()
    jobs = {
        "http1": lambda i: http1(target, i, body),
        "h2": lambda i: h2(target, i, body),
        "ws": lambda i: ws(target, i, body),
        "failed-logins": lambda i: failed_login(target, i),
        "logins": lambda i: abandoned_login(target, i, ARGS.user, ARGS.password),
    }
    started = time.monotonic()
    outcomes = run(ARGS.workers, ARGS.count, jobs[ARGS.mode])
    summary = {
        "mode": ARGS.mode,
        "count": sum(outcomes.values()),
        "addresses": min(ARGS.addresses, ARGS.count),
        "seconds": round(time.monotonic() - started, 1),
        "outcomes": dict(sorted(outcomes.items())),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
