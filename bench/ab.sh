#!/usr/bin/env bash
# Two bakery builds head to head on the authenticated `fn.myShift`: paired rounds, each
# running both builds back to back under wrk (A then B in odd rounds, B then A in even
# ones, so drift in the machine's load evens out), then the mean of the rounds' paired
# differences in requests/s and in CPU per request, each with its standard error.
#
# Paired differences cancel most of a shared machine's drift, which moves `bench/http.sh`'s
# rates by several points between rounds: on a 2-core VM the same binary against itself
# gives a difference within about ±1 %, so only differences above about 2 % stand out.
#
# Usage: bench/ab.sh BAKERY_A BAKERY_B [seconds-per-run (default 5)] [rounds (default 24)]
# Env:   WRK_THREADS (2), WRK_CONNECTIONS (16), BAKERY_ARGS (further arguments for both,
#        e.g. `--metrics`), SERVER_PRELOAD (see bench/lib.sh).
#
# Build each side with `cargo build --release -p telepact-bakery` in its own checkout or
# CARGO_TARGET_DIR and copy the binary aside. Loopback only; each server is stopped after
# its run and killed on exit.
set -euo pipefail

if (($# < 2)); then
    sed -n '11p' "$0" | sed 's/^# //' >&2
    exit 2
fi
BUILD_A="$1"
BUILD_B="$2"
DURATION="${3:-5}"
ROUNDS="${4:-24}"
THREADS="${WRK_THREADS:-2}"
CONNECTIONS="${WRK_CONNECTIONS:-16}"
for build in "$BUILD_A" "$BUILD_B"; do
    [[ -f "$build" && -x "$build" ]] || { echo "not an executable file: $build" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (bench/http.sh installs it)" >&2; exit 2; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf '%s' "$MYSHIFT" >"$WORK/body.json"
export TELEPACT_BENCH_BODY="$WORK/body.json"

# Prints the requests/s of bakery build `$1` under wrk, and its CPU microseconds per
# request, after a second of warm-up.
measure() {
    # shellcheck disable=SC2086 # BAKERY_ARGS is a list of words.
    start_server "$1" --port 0 ${BAKERY_ARGS:-}
    local url="http://127.0.0.1:$PORT/api/telepact"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d1s -s "$ROOT/bench/http.lua" "$url" >/dev/null
    wrk_measure "$1" "$url" 2
}

echo "A: $BUILD_A" >&2
echo "B: $BUILD_B" >&2
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS paired rounds" >&2
for round in $(seq "$ROUNDS"); do
    if ((round % 2)); then
        a="$(measure "$BUILD_A")"
        b="$(measure "$BUILD_B")"
    else
        b="$(measure "$BUILD_B")"
        a="$(measure "$BUILD_A")"
    fi
    read -r a_rate a_cpu <<<"$a"
    read -r b_rate b_cpu <<<"$b"
    printf 'round %2d: A %9s req/s (%s µs CPU/req), B %9s req/s (%s µs CPU/req)\n' \
        "$round" "$a_rate" "$a_cpu" "$b_rate" "$b_cpu"
    echo "$a_rate $a_cpu $b_rate $b_cpu" >>"$WORK/pairs"
done

# Each round's B/A - 1 for the rate and the CPU time, then their means and standard errors.
awk '{
        n++
        rate = 100 * ($3 / $1 - 1); cpu = 100 * ($4 / $2 - 1)
        rate_sum += rate; rate_squares += rate * rate
        cpu_sum += cpu; cpu_squares += cpu * cpu
    }
    function error(sum, squares) {
        if (n < 2) return "-"
        variance = (squares - sum * sum / n) / (n - 1)
        return sprintf("%.2f", sqrt((variance < 0 ? 0 : variance) / n))
    }
    END {
        printf "B against A over %d rounds: requests/s %+.2f %% (standard error %s), CPU per request %+.2f %% (standard error %s)\n",
            n, rate_sum / n, error(rate_sum, rate_squares), cpu_sum / n, error(cpu_sum, cpu_squares)
    }' "$WORK/pairs"
