#!/usr/bin/env bash
# HTTP throughput of the Telepact axum integration against a bare axum handler that
# parses the same JSON body and answers fixed bytes (runtime acceptance: >= 70 %).
#
# Usage: bench/http.sh [seconds-per-run (default 10)] [rounds (default 1)]
# Env:   CARGO_TARGET_DIR (where to build), WRK_THREADS (2), WRK_CONNECTIONS (16).
#
# Loopback only. Each server stops by itself (a --seconds limit) and is killed on exit.
# wrk and the server share the machine's cores, so on a small machine the figures
# measure both; the ratio is what matters.
set -euo pipefail

DURATION="${1:-10}"
ROUNDS="${2:-1}"
THREADS="${WRK_THREADS:-2}"
CONNECTIONS="${WRK_CONNECTIONS:-16}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/examples/http_throughput"
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

if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    if [[ "$(id -u)" -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get install -y wrk >/dev/null 2>&1 ||
        { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

echo "building http_throughput (release)" >&2
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release \
    -p telepact --example http_throughput)

export TELEPACT_BENCH_BODY="$WORK/body.json"
"$BIN" body >"$TELEPACT_BENCH_BODY"

# Starts `http_throughput $1` and sets PORT once it listens.
start_server() {
    local limit=$((DURATION + 30))
    "$BIN" "$1" --seconds "$limit" >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 100); do
        PORT="$(sed -n 's/^READY //p' "$WORK/server.out")"
        [[ -n "$PORT" ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "server '$1' did not start:" >&2
    cat "$WORK/server.err" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# Prints the requests/s wrk measured against server `$1`.
measure() {
    start_server "$1"
    local url="http://127.0.0.1:$PORT/api"
    local answer
    answer="$(curl -sS -X POST -H 'Content-Type: application/json' \
        --data-binary "@$TELEPACT_BENCH_BODY" "$url")"
    if [[ "$answer" != '[{},{"Ok_":'* ]]; then
        echo "server '$1' answered: $answer" >&2
        exit 1
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$ROOT/bench/http.lua" "$url" \
        >"$WORK/wrk.out"
    stop_server
    if grep -q 'Non-2xx\|Socket errors' "$WORK/wrk.out"; then
        echo "wrk reported errors against '$1':" >&2
        cat "$WORK/wrk.out" >&2
        exit 1
    fi
    sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.out"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores shared by wrk and server," \
    "body $(wc -c <"$TELEPACT_BENCH_BODY") bytes" >&2
for round in $(seq "$ROUNDS"); do
    # Alternate which server goes first, so drift in the machine's load evens out.
    if ((round % 2)); then
        bare="$(measure bare)"
        telepact="$(measure telepact)"
    else
        telepact="$(measure telepact)"
        bare="$(measure bare)"
    fi
    ratio="$(awk -v t="$telepact" -v b="$bare" 'BEGIN { printf "%.1f", 100 * t / b }')"
    printf 'round %s: bare axum %s req/s, telepact %s req/s, ratio %s %%\n' \
        "$round" "$bare" "$telepact" "$ratio"
done
