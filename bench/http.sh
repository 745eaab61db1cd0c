#!/usr/bin/env bash
# HTTP throughput of Telepact servers against a bare axum handler that parses the same
# JSON body and answers fixed bytes, in one run, alternating servers:
# - echo:   the runtime's axum router echoing `fn.roundTripTypical` (one item);
# - bakery: the bakery binary (release) answering the authenticated `fn.myShift`, auth
#           hook, identity middleware and its stdout log included (to a file).
#
# Usage: bench/http.sh [seconds-per-run (default 10)] [rounds (default 1)]
# Env:   CARGO_TARGET_DIR (where to build), WRK_THREADS (2), WRK_CONNECTIONS (16),
#        HTTP_BENCH (echo, bakery or both: the default), BAKERY_BIN (a bakery binary to
#        measure instead of this tree's: a build of an earlier commit, to compare),
#        NO_BUILD (set: use the binaries already built), BAKERY_ARGS (further arguments
#        for the bakery, e.g. `--metrics` to count every call as well), SERVER_PRELOAD (a
#        library both servers, and not wrk, start with in LD_PRELOAD: another allocator).
#
# Besides requests/s, each line gives the server's CPU time per request (user + system,
# from /proc): it moves less than the rate when other processes load the machine, though
# as much when the machine itself slows down.
# The last lines give each server's mean ratio over the rounds and its standard error.
# Where single rounds differ by ten points or more (a VM whose speed swings within
# seconds), more rounds narrow the mean and shorter ones do not widen it: `5 60` takes
# twelve minutes and gave a standard error of 1.4 points where `10 16` gave 2.5.
#
# Loopback only. Each server stops by itself (a --seconds limit) and is killed on exit.
# wrk and the server share the machine's cores, so on a small machine the figures
# measure both; the ratio is what matters.
set -euo pipefail

DURATION="${1:-10}"
ROUNDS="${2:-1}"
THREADS="${WRK_THREADS:-2}"
CONNECTIONS="${WRK_CONNECTIONS:-16}"
WHICH="${HTTP_BENCH:-both}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    if [[ "$(id -u)" -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get install -y wrk >/dev/null 2>&1 ||
        { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

build_servers

"$THROUGHPUT" body >"$WORK/echo.json"
printf '%s' "$MYSHIFT" >"$WORK/bakery.json"
export TELEPACT_BENCH_BODY

# Starts server `$1` (bare, telepact or bakery) and sets PORT once it listens.
start() {
    if [[ "$1" == bakery ]]; then
        # The identity log goes to a file, as a supervisor would collect it.
        # shellcheck disable=SC2086 # BAKERY_ARGS is a list of words.
        start_server "$BAKERY" --port 0 ${BAKERY_ARGS:-}
    else
        # Each server stops by itself, should this script be killed before it can.
        start_server "$THROUGHPUT" "$1" --seconds $((DURATION + 30))
    fi
}

# Prints the requests/s wrk measured against server `$1` posting body file `$2`, and
# the server's CPU microseconds per request during the run.
measure() {
    TELEPACT_BENCH_BODY="$2"
    start "$1"
    local url="http://127.0.0.1:$PORT/api"
    [[ "$1" == bakery ]] && url="http://127.0.0.1:$PORT/api/telepact"
    local answer
    answer="$(curl -sS -X POST -H 'Content-Type: application/json' \
        --data-binary "@$TELEPACT_BENCH_BODY" "$url")"
    if [[ "$answer" != '[{},{"Ok_":'* ]]; then
        echo "server '$1' answered: $answer" >&2
        exit 1
    fi
    wrk_measure "$1" "$url" 1
}

# One round of `$1` (echo or bakery): bare and Telepact back to back, in the order `$2`
# (bare-first or telepact-first), printing both rates and their ratio.
compare() {
    local body="$WORK/$1.json" server=telepact bare telepact ratio
    [[ "$1" == bakery ]] && server=bakery
    if [[ "$2" == bare-first ]]; then
        bare="$(measure bare "$body")"
        telepact="$(measure "$server" "$body")"
    else
        telepact="$(measure "$server" "$body")"
        bare="$(measure bare "$body")"
    fi
    read -r bare bare_cpu <<<"$bare"
    read -r telepact telepact_cpu <<<"$telepact"
    ratio="$(awk -v t="$telepact" -v b="$bare" 'BEGIN { printf "%.1f", 100 * t / b }')"
    printf '%-6s bare axum %9s req/s (%s µs CPU/req), telepact %9s req/s (%s µs CPU/req), ratio %5s %%, load %s\n' \
        "$1" "$bare" "$bare_cpu" "$telepact" "$telepact_cpu" "$ratio" "$(cut -d' ' -f1 /proc/loadavg)"
    echo "$1 $ratio" >>"$WORK/ratios"
}

# Prints each server's mean ratio over the rounds, with its standard error: a round's
# ratio moves by a few points on a shared machine, so a difference between two runs
# smaller than about twice the errors is not one.
summarize() {
    awk '{ n[$1]++; sum[$1] += $2; squares[$1] += $2 * $2 }
        END {
            for (server in n) {
                mean = sum[server] / n[server]
                line = sprintf("%-6s mean ratio %.1f %% over %d rounds", server, mean, n[server])
                if (n[server] > 1) {
                    variance = (squares[server] - n[server] * mean * mean) / (n[server] - 1)
                    if (variance < 0) variance = 0
                    line = line sprintf(" (standard error %.1f)", sqrt(variance / n[server]))
                }
                print line
            }
        }' "$WORK/ratios"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores shared by wrk and server," \
    "bodies: echo $(wc -c <"$WORK/echo.json") bytes, bakery $(wc -c <"$WORK/bakery.json") bytes" >&2
for round in $(seq "$ROUNDS"); do
    # Alternate which server goes first, so drift in the machine's load evens out.
    order=telepact-first
    ((round % 2)) && order=bare-first
    echo "round $round"
    [[ "$WHICH" == bakery ]] || compare echo "$order"
    [[ "$WHICH" == echo ]] || compare bakery "$order"
done
summarize
