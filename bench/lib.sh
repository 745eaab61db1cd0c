# Shared by the bench scripts that measure the bakery and `http_throughput` (sourced, not
# run): where the binaries are, a work folder removed on exit together with the server
# started last, the release build, and starting a server until it prints `READY <port>`.
#
# Env: CARGO_TARGET_DIR (where to build), NO_BUILD (set: use the binaries already built),
#      BAKERY_BIN (a bakery binary to measure instead of this tree's), SERVER_PRELOAD (a
#      shared library every server of the run, and no client, starts with in LD_PRELOAD:
#      for example another allocator, /usr/lib/x86_64-linux-gnu/libjemalloc.so.2).

# A command that fails inside `$(...)` stops the script too, not only the substitution.
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
THROUGHPUT="$TARGET_DIR/release/examples/http_throughput"
BAKERY="${BAKERY_BIN:-$TARGET_DIR/release/telepact-bakery}"
# The bakery's authenticated call, as its README sends it.
MYSHIFT='[{"@auth_":{"Password":{"username":"lead-baker","password":"opensesame"}}},{"fn.myShift":{}}]'
WORK="$(mktemp -d)"
SERVER_PID=""

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_PID" ]]; then
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

# The CPU time (user + system, in clock ticks) process `$1` has used so far.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Builds http_throughput and the bakery (release) unless NO_BUILD is set.
build_servers() {
    [[ -n "${NO_BUILD:-}" ]] && return 0
    echo "building http_throughput and the bakery (release)" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release \
        -p telepact --example http_throughput -p telepact-bakery --bin telepact-bakery)
}

# Starts `$@` with its output in the work folder and sets PORT once it prints
# `READY <port>`, waiting up to READY_WAIT tenths of a second (default 100).
start_server() {
    if [[ -n "${SERVER_PRELOAD:-}" ]]; then
        [[ -f "$SERVER_PRELOAD" ]] || { echo "SERVER_PRELOAD: no file $SERVER_PRELOAD" >&2; exit 1; }
        set -- env LD_PRELOAD="$SERVER_PRELOAD" "$@"
    fi
    # Made before the server starts: the background job may open it after the first look.
    : >"$WORK/server.out"
    "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq "${READY_WAIT:-100}"); do
        PORT="$(sed -n 's/^READY //p' "$WORK/server.out")"
        [[ -n "$PORT" ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "server '$*' did not start:" >&2
    cat "$WORK/server.err" >&2
    exit 1
}

# Runs wrk (THREADS threads, CONNECTIONS connections, DURATION seconds, posting the body
# of bench/http.lua) against `$2`, a URL of the server started last, then stops that
# server; prints the requests/s and the server's CPU microseconds per request during the
# run, with `$3` decimals (default 1). Fails, naming `$1`, when wrk saw errors.
wrk_measure() {
    local ticks_before ticks_after
    ticks_before="$(cpu_ticks "$SERVER_PID")"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$ROOT/bench/http.lua" "$2" \
        >"$WORK/wrk.out"
    ticks_after="$(cpu_ticks "$SERVER_PID")"
    stop_server
    if grep -q 'Non-2xx\|Socket errors' "$WORK/wrk.out"; then
        echo "wrk reported errors against '$1':" >&2
        cat "$WORK/wrk.out" >&2
        exit 1
    fi
    local rate requests
    rate="$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.out")"
    requests="$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$WORK/wrk.out")"
    awk -v r="$rate" -v n="$requests" -v t=$((ticks_after - ticks_before)) \
        -v hz="$(getconf CLK_TCK)" -v d="${3:-1}" \
        'BEGIN { printf "%s %.*f\n", r, d, 1e6 * t / hz / n }'
}
