#!/usr/bin/env bash
# Instructions per HTTP request, counted by valgrind (callgrind), for the bakery's
# authenticated `fn.myShift` and for the bare axum handler of bench/http.sh with the same
# body. Unlike req/s or CPU time, the counts repeat from run to run on a busy machine, so
# they show what a change does to the work per request. They count the server's user-space
# instructions only (not the kernel's, not stalls).
#
# Each server runs under callgrind twice, answering SMALL and then LARGE requests sent one
# at a time over four keep-alive connections; the difference between the two totals,
# divided by LARGE - SMALL, is the cost of one request without start-up and shutdown.
#
# Usage: bench/http-instructions.sh [small (default 100)] [large (default 600)]
# Env:   CARGO_TARGET_DIR (where to build), NO_BUILD (set: use the release binaries
#        already built), BAKERY_BIN (a bakery binary to measure instead of this tree's).
#
# Loopback only; each server is stopped with SIGINT once its requests are answered.
set -euo pipefail

SMALL="${1:-100}"
LARGE="${2:-600}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/examples/http_throughput"
BAKERY="${BAKERY_BIN:-$TARGET_DIR/release/telepact-bakery}"
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v valgrind >/dev/null; then
    echo "SKIP: valgrind is not installed" >&2
    exit 0
fi

if [[ -z "${NO_BUILD:-}" ]]; then
    echo "building http_throughput and the bakery (release)" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release \
        -p telepact --example http_throughput -p telepact-bakery --bin telepact-bakery)
fi

printf '%s' '[{"@auth_":{"Password":{"username":"lead-baker","password":"opensesame"}}},{"fn.myShift":{}}]' \
    >"$WORK/body.json"

# Sends `$3` requests to port `$1`, path `$2`, one at a time over four connections;
# fails on any answer but 200.
send() {
    python3 - "$1" "$2" "$3" "$WORK/body.json" <<'PY'
import http.client, sys
port, path, count, body_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
body = open(body_file, "rb").read()
connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(4)]
for i in range(count):
    connection = connections[i % 4]
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"answer {response.status}")
PY
}

# Prints the instructions server `$1` (bare or bakery) executes answering `$2` requests,
# start-up and shutdown included.
total() {
    local path=/api
    rm -f "$WORK"/callgrind.out* "$WORK/server.out"
    if [[ "$1" == bakery ]]; then
        path=/api/telepact
        valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
            "$BAKERY" --port 0 >"$WORK/server.out" 2>"$WORK/server.err" &
    else
        valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
            "$BIN" bare --seconds 600 >"$WORK/server.out" 2>"$WORK/server.err" &
    fi
    SERVER_PID=$!
    local port=""
    for _ in $(seq 300); do
        port="$(sed -n 's/^READY //p' "$WORK/server.out")"
        [[ -n "$port" ]] && break
        sleep 0.2
    done
    if [[ -z "$port" ]]; then
        echo "server '$1' did not start:" >&2
        cat "$WORK/server.err" >&2
        exit 1
    fi
    send "$port" "$path" "$2"
    kill -INT "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    # One total per output file (a file states it twice, as `summary:` and `totals:`).
    awk 'FNR == 1 { seen = 0 } !seen && /^(summary|totals):/ { sum += $2; seen = 1 } END { print sum }' \
        "$WORK"/callgrind.out*
}

for server in bare bakery; do
    small="$(total "$server" "$SMALL")"
    large="$(total "$server" "$LARGE")"
    echo "$server: $(((large - small) / (LARGE - SMALL))) instructions per request"
done
