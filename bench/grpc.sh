#!/usr/bin/env bash
# Telepact (JSON, binary, packed over HTTP/1.1) against gRPC (tonic over HTTP/2, prost
# messages of the same shape), one load client for all (bench/grpc/src/bin/loadgen.rs:
# N connections, one call in flight on each, every request's bytes encoded once and
# every answer read whole without being decoded, as h2load does), two payloads:
# - myshift: the bakery's authenticated `fn.myShift` (the bakery binary: auth hook,
#            identity middleware and its log to a file) vs `MyShift` checking metadata;
# - huge:    the 1,200-item `fn.roundTripTypical` echo (http_throughput telepact: of
#            JSON values, and as a typed route, the "typed" rows) vs `RoundTripTypical`
#            echoing the same items.
# Prints one line per protocol and payload per round: req/s, p50 and p99 in µs, the
# rate as a percentage of gRPC's in the same round, and the server's CPU time per call
# (user + system from /proc, warm-up included on both sides of the division). The load
# client and the servers share the machine's cores, so the rate measures both; the CPU
# per call is the server's own work.
#
# Usage: bench/grpc.sh [seconds-per-run (default 10)] [rounds (default 1)]
# Env:   CARGO_TARGET_DIR (the workspace's build), GRPC_TARGET_DIR (the gRPC bench's own
#        build; default $CARGO_TARGET_DIR/grpc), CONNECTIONS (16), NO_BUILD (set: use the
#        binaries already built), BAKERY_BIN (a bakery binary to measure instead),
#        SERVER_PRELOAD (a library every server, tonic's included, starts with in
#        LD_PRELOAD, e.g. another allocator; the load client never does), PAYLOADS
#        (the payloads to measure: "myshift huge" unless set).
#
# The gRPC bench is its own Cargo workspace (bench/grpc), so the main workspace never
# compiles tonic.
set -euo pipefail

DURATION="${1:-10}"
ROUNDS="${2:-1}"
CONNECTIONS="${CONNECTIONS:-16}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
GRPC_TARGET_DIR="${GRPC_TARGET_DIR:-$TARGET_DIR/grpc}"
GRPC_SERVER="$GRPC_TARGET_DIR/release/grpc_server"
LOADGEN="$GRPC_TARGET_DIR/release/loadgen"

build_servers
if [[ -z "${NO_BUILD:-}" ]]; then
    echo "building the gRPC bench (release)" >&2
    (cd "$ROOT/bench/grpc" && CARGO_TARGET_DIR="$GRPC_TARGET_DIR" cargo build --quiet --release)
fi

printf '%s' "$MYSHIFT" >"$WORK/myshift.json"
"$THROUGHPUT" body --schema-dir "$ROOT/api" --request "$MYSHIFT" --encoding binary \
    >"$WORK/myshift.binary"
for encoding in json binary packed; do
    "$THROUGHPUT" body --payload huge-list --encoding "$encoding" >"$WORK/huge.$encoding"
done

# Checks one answer to body file `$2` at URL `$1` is an `Ok_` in the encoding asked.
check_answer() {
    local content_type
    content_type="$(curl -sS -o "$WORK/answer" -w '%{content_type}' -X POST \
        --data-binary "@$2" "$1")"
    case "$2" in
    *.json) [[ "$(head -c 10 "$WORK/answer")" == '[{},{"Ok_"' ]] ;;
    *) [[ "$content_type" == application/octet-stream ]] ;;
    esac || {
        echo "unexpected answer ($content_type) to $2: $(head -c 200 "$WORK/answer")" >&2
        exit 1
    }
}

# Prints loadgen's line for Telepact server `$1` (bakery, echo of JSON values, or
# typed echo) posting body `$2`.
measure_telepact() {
    local url content_type=application/json
    case "$1" in
    bakery)
        start_server "$BAKERY" --port 0
        url="http://127.0.0.1:$PORT/api/telepact"
        ;;
    echo)
        start_server "$THROUGHPUT" telepact --seconds $((DURATION + 30))
        url="http://127.0.0.1:$PORT/api"
        ;;
    typed)
        start_server "$THROUGHPUT" telepact --typed --seconds $((DURATION + 30))
        url="http://127.0.0.1:$PORT/api"
        ;;
    esac
    [[ "$2" == *.json ]] || content_type=application/octet-stream
    check_answer "$url" "$2"
    with_server_cpu "$LOADGEN" http "$url" "$2" "$content_type" "$CONNECTIONS" "$DURATION"
}

# Runs the load client `$@` against the server started last, stops the server, and
# prints the client's line with `cpu_us <server CPU µs per call>` appended.
with_server_cpu() {
    local before after line
    before="$(cpu_ticks "$SERVER_PID")"
    line="$("$@")"
    after="$(cpu_ticks "$SERVER_PID")"
    stop_server
    awk -v line="$line" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
        n = split(line, f, " ")
        for (i = 1; i < n; i++) if (f[i] == "all") calls = f[i + 1]
        printf "%s cpu_us %.1f\n", line, 1e6 * t / hz / calls
    }'
}

# Prints loadgen's line for the gRPC server and call `$1` (myshift or items:FILE).
measure_grpc() {
    start_server "$GRPC_SERVER" --seconds $((DURATION + 30))
    with_server_cpu "$LOADGEN" grpc "http://127.0.0.1:$PORT" "$1" "$CONNECTIONS" "$DURATION"
}

# The value after name `$1` in a line `calls N all M req/s R p50_us A p99_us B cpu_us C`.
field() { awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i == name) print $(i + 1) }'; }

# Measures the rows of payload `$1` and prints them against gRPC.
compare() {
    local -a names lines
    # One assignment per line, so a failed measurement stops the script (in an array
    # assignment only the last substitution's status counts).
    if [[ "$1" == myshift ]]; then
        names=("gRPC (tonic)" "Telepact JSON" "Telepact binary")
        lines[0]="$(measure_grpc myshift)"
        lines[1]="$(measure_telepact bakery "$WORK/myshift.json")"
        lines[2]="$(measure_telepact bakery "$WORK/myshift.binary")"
    else
        names=("gRPC (tonic)" "Telepact JSON" "Telepact binary" "Telepact packed"
            "typed JSON" "typed binary")
        lines[0]="$(measure_grpc "items:$WORK/huge.json")"
        lines[1]="$(measure_telepact echo "$WORK/huge.json")"
        lines[2]="$(measure_telepact echo "$WORK/huge.binary")"
        lines[3]="$(measure_telepact echo "$WORK/huge.packed")"
        lines[4]="$(measure_telepact typed "$WORK/huge.json")"
        lines[5]="$(measure_telepact typed "$WORK/huge.binary")"
    fi
    local grpc_rate i rate
    grpc_rate="$(field req/s <<<"${lines[0]}")"
    for i in "${!names[@]}"; do
        rate="$(field req/s <<<"${lines[$i]}")"
        printf '%-8s %-16s %8s req/s  p50 %7s µs  p99 %7s µs  %6s %% of gRPC  server %7s µs CPU/call\n' \
            "$1" "${names[$i]}" "$rate" "$(field p50_us <<<"${lines[$i]}")" \
            "$(field p99_us <<<"${lines[$i]}")" \
            "$(awk -v r="$rate" -v g="$grpc_rate" 'BEGIN { printf "%.1f", 100 * r / g }')" \
            "$(field cpu_us <<<"${lines[$i]}")"
    done
}

echo "$CONNECTIONS connections x ${DURATION}s (after 1 s warm-up), $(nproc) cores shared by" \
    "client and server; bodies: myShift $(wc -c <"$WORK/myshift.json") B JSON /" \
    "$(wc -c <"$WORK/myshift.binary") B binary; huge-list $(wc -c <"$WORK/huge.json") B JSON /" \
    "$(wc -c <"$WORK/huge.binary") B binary / $(wc -c <"$WORK/huge.packed") B packed" >&2
for round in $(seq "$ROUNDS"); do
    echo "round $round"
    for payload in ${PAYLOADS:-myshift huge}; do
        compare "$payload"
    done
done
