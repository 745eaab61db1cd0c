#!/usr/bin/env python3
"""What HTTP/2 streams left waiting cost a Telepact HTTP service (on loopback).

Opens CONNECTIONS cleartext HTTP/2 connections (prior knowledge) to 127.0.0.1:PORT and
on each as many streams as the server allows at once (up to STREAMS), each a POST to
PATH whose header list holds about HEADER_BYTES of headers, distinct on every stream
(literals, not indexed), and none sending its body: each request waits for a body that
never comes. Holds them SECONDS, reads the server's resident memory (with --pid) before
and while they are held, then closes every connection. Prints one JSON line. Loopback
only; bounded in connections, streams and time. No dependency beyond Python 3 (its frames
are written as bench/churn.py writes them).

Usage: bench/h2-streams.py PORT [--pid PID] [--connections 256] [--streams 200]
       [--header-bytes 15000] [--seconds 10] [--path /api/telepact]
"""

import argparse
import json
import socket
import struct
import time

from churn import HEADERS, SETTINGS, frame, hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ACK, END_HEADERS = 0x1, 0x4
MAX_CONCURRENT_STREAMS = 0x3


def header_block(path, stream, header_bytes):
    fields = [(":method", "POST"), (":scheme", "http"), (":path", path),
              (":authority", "localhost"), ("content-type", "application/json")]
    for index in range(max(0, header_bytes // 1000 - 1)):
        fields.append((f"x-filler-{index}", f"{stream:08d}" + "a" * 950))
    return hpack(fields)


def read_frames(sock, until):
    """Frames read until `until(kind, flags, payload)` is true or the socket times out."""
    buffer = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None
        if not chunk:
            return None
        buffer += chunk
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags = buffer[3], buffer[4]
            payload, buffer = buffer[9:9 + length], buffer[9 + length:]
            if until(kind, flags, payload):
                return kind, flags, payload


def server_stream_limit(settings):
    for offset in range(0, len(settings) - 5, 6):
        key, value = struct.unpack(">HI", settings[offset:offset + 6])
        if key == MAX_CONCURRENT_STREAMS:
            return value
    return None


def resident_kb(pid):
    if pid is None:
        return None
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--header-bytes", type=int, default=15000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--path", default="/api/telepact")
    args = parser.parse_args()
    if args.header_bytes > 16000:
        raise SystemExit("--header-bytes: at most 16000 (one HEADERS frame of 16 KiB)")

    before = resident_kb(args.pid)
    held, streams, limit = [], 0, None
    for _ in range(min(args.connections, 10_000)):
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=5)
        sock.sendall(PREFACE + frame(SETTINGS, 0, 0, b""))
        settings = read_frames(sock, lambda kind, flags, _: kind == SETTINGS and not flags & ACK)
        if settings is None:
            sock.close()
            break
        limit = server_stream_limit(settings[2])
        sock.sendall(frame(SETTINGS, ACK, 0, b""))
        count = min(args.streams, limit if limit is not None else args.streams)
        for index in range(count):
            stream = 2 * index + 1
            block = header_block(args.path, streams + index, args.header_bytes)
            sock.sendall(frame(HEADERS, END_HEADERS, stream, block))
        streams += count
        held.append(sock)
    time.sleep(min(args.seconds, 600))
    while_held = resident_kb(args.pid)
    for sock in held:
        sock.close()
    print(json.dumps({
        "connections": len(held), "server_stream_limit": limit, "streams": streams,
        "header_bytes": args.header_bytes, "server_rss_kb_before": before,
        "server_rss_kb_held": while_held,
    }))


if __name__ == "__main__":
    main()
