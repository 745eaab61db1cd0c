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
#        already built), BAKERY_BIN (a bakery binary to measure instead of this tree's),
#        BAKERY_ARGS (further arguments for the bakery: `--metrics`, counted with
#        BAKERY_SCOPE, as the metrics clock's calibration at start-up varies by millions of
#        instructions from run to run), SERVER_PRELOAD (a library both servers start with
#        in LD_PRELOAD: another allocator),
#        BAKERY_SCOPE (a function pattern, as valgrind's --toggle-collect takes it: count
#        only the instructions run inside it, and measure only the bakery; e.g.
#        '*Processor>::process::{{closure}}', the protocol's work on a request).
#
# Whole-process counts move with the timing on some machines (the runtime's parking, the
# identity log's batches), by up to about 2 % of a request's count between runs of one
# build; a count scoped to the request's own work repeats within a few tenths of a
# percent, which is what an A/B of a small change needs.
#
# Loopback only; each server is stopped with SIGTERM once its requests are answered.
set -euo pipefail

SMALL="${1:-100}"
LARGE="${2:-600}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Starting under valgrind takes a few seconds.
READY_WAIT=600

if ! command -v valgrind >/dev/null; then
    echo "SKIP: valgrind is not installed" >&2
    exit 0
fi

build_servers
printf '%s' "$MYSHIFT" >"$WORK/body.json"

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
    local path=/api server=("$THROUGHPUT" bare --seconds 600)
    if [[ "$1" == bakery ]]; then
        path=/api/telepact
        # shellcheck disable=SC2206 # BAKERY_ARGS is a list of words.
        server=("$BAKERY" --port 0 ${BAKERY_ARGS:-})
    fi
    local scope=()
    [[ -n "${BAKERY_SCOPE:-}" ]] && scope=("--toggle-collect=$BAKERY_SCOPE")
    rm -f "$WORK"/callgrind.out*
    start_server valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
        "${scope[@]}" "${server[@]}"
    send "$PORT" "$path" "$2"
    # Stopped by a signal, the server shuts down gracefully and callgrind writes its counts.
    stop_server
    # One total per output file (a file states it twice, as `summary:` and `totals:`).
    awk 'FNR == 1 { seen = 0 } !seen && /^(summary|totals):/ { sum += $2; seen = 1 } END { print sum }' \
        "$WORK"/callgrind.out*
}

servers=(bare bakery)
[[ -n "${BAKERY_SCOPE:-}" ]] && servers=(bakery)
for server in "${servers[@]}"; do
    small="$(total "$server" "$SMALL")"
    large="$(total "$server" "$LARGE")"
    echo "$server: $(((large - small) / (LARGE - SMALL))) instructions per request"
done
