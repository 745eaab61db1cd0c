#!/usr/bin/env bash
# Throughput of the bakery behind NATS (gateway -> nats-server -> 1 or 2 workers, and 1
# worker with the caller's address forwarded) side by side with the bakery served
# directly over HTTP, all driven by wrk with `fn.ping_`,
# and each process's CPU time per request (user + system, from /proc) during the run.
#
# Usage: bench/nats.sh [seconds-per-run (default 10)]
# Env:   CARGO_TARGET_DIR (where to build), WRK_THREADS (2), WRK_CONNECTIONS (16),
#        BAKERY_BIN (a bakery binary to serve directly instead of this tree's; see lib.sh).
#
# Loopback only; every process started here is killed on exit. On a small machine wrk,
# nats-server, the gateway and the workers share the cores: compare the rows, not the
# absolute figures.
set -euo pipefail

DURATION="${1:-10}"
THREADS="${WRK_THREADS:-2}"
CONNECTIONS="${WRK_CONNECTIONS:-16}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEPLOYMENT="$TARGET_DIR/release/telepact-nats-deployment"
# The processes started for the current measurement, and the role of each.
PIDS=()
ROLES=()

stop_all() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    ROLES=()
}
# lib.sh's cleanup removes the work folder.
trap 'stop_all; cleanup' EXIT

for tool in wrk nats-server; do
    if ! command -v "$tool" >/dev/null && [[ ! -x "/usr/sbin/$tool" ]]; then
        echo "installing $tool" >&2
        apt-get install -y "$tool" >/dev/null 2>&1 ||
            { apt-get update >/dev/null && apt-get install -y "$tool" >/dev/null; }
    fi
done
NATS_SERVER="$(command -v nats-server || echo /usr/sbin/nats-server)"

echo "building the bakery and the NATS deployment (release)" >&2
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release \
    -p telepact-bakery -p telepact-nats-deployment)

export TELEPACT_BENCH_BODY="$WORK/body.json"
printf '[{}, {"fn.ping_": {}}]' >"$TELEPACT_BENCH_BODY"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs "${@:2}" in the background as role `$1`, waits for its `READY <port>` line, sets
# PORT.
start_ready() {
    local out="$WORK/out.$RANDOM"
    "${@:2}" >"$out" 2>>"$WORK/err" &
    PIDS+=($!)
    ROLES+=("$1")
    PORT=""
    for _ in $(seq 100); do
        PORT="$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$out")"
        [[ -n "$PORT" ]] && return 0
        sleep 0.1
    done
    echo "'$*' did not start:" >&2
    cat "$WORK/err" >&2
    exit 1
}

# Starts nats-server, `$1` workers and a gateway; sets PORT to the gateway's. With `$2`
# `forward`, the gateway sends each caller's address and the workers trust it.
start_nats_deployment() {
    local worker_args=() gateway_args=()
    if [[ "${2:-}" == forward ]]; then
        worker_args=(--trust-gateway-address)
        gateway_args=(--forward-caller-address)
    fi
    local nats_port
    nats_port="$(free_port)"
    "$NATS_SERVER" -a 127.0.0.1 -p "$nats_port" >/dev/null 2>&1 &
    PIDS+=($!)
    ROLES+=(nats-server)
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break
        sleep 0.1
    done
    local url="nats://127.0.0.1:$nats_port"
    for _ in $(seq "$1"); do
        "$DEPLOYMENT" --nats "$url" worker "${worker_args[@]}" >"$WORK/worker.out" 2>>"$WORK/err" &
        PIDS+=($!)
        ROLES+=(worker)
    done
    sleep 0.5
    start_ready gateway "$DEPLOYMENT" --nats "$url" gateway --port 0 "${gateway_args[@]}"
}

# The CPU time (user + system, in clock ticks) of each process started, in order.
all_cpu_ticks() {
    local pid
    for pid in "${PIDS[@]}"; do cpu_ticks "$pid"; done
}

# Sets RATE to the requests/s wrk measured at the gateway or server on PORT and CPU to
# each process's CPU µs per request, then stops every process started. Not to be called
# in `$(...)`: the stop must reach this shell.
measure() {
    local url="http://127.0.0.1:$PORT/api/telepact"
    local answer before after
    answer="$(curl -sS -X POST --data-binary "@$TELEPACT_BENCH_BODY" "$url")"
    if [[ "$answer" != '[{}, {"Ok_": {}}]' && "$answer" != '[{},{"Ok_":{}}]' ]]; then
        echo "$1 answered: $answer" >&2
        exit 1
    fi
    before="$(all_cpu_ticks)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$ROOT/bench/http.lua" "$url" \
        >"$WORK/wrk.out"
    after="$(all_cpu_ticks)"
    CPU="$(paste <(printf '%s\n' "${ROLES[@]}") <(echo "$before") <(echo "$after") |
        awk -v requests="$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")" \
            -v hz="$(getconf CLK_TCK)" '
            { us = ($3 - $2) * 1e6 / hz / requests; total += us
              parts = parts sep sprintf("%s %.1f", $1, us); sep = ", " }
            END { printf "%s; total %.1f", parts, total }')"
    stop_all
    if grep -q 'Non-2xx\|Socket errors' "$WORK/wrk.out"; then
        echo "wrk reported errors against $1:" >&2
        cat "$WORK/wrk.out" >&2
        exit 1
    fi
    RATE="$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.out")"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores shared by every process" >&2
# One line per setup: requests/s, then CPU µs per request by process and in total.
report() {
    measure "$1"
    printf '%s: %s req/s; CPU µs/request: %s\n' "$1" "$RATE" "$CPU"
}

start_ready bakery "$BAKERY" --port 0
report "direct HTTP"
start_nats_deployment 1
report "gateway + 1 worker"
start_nats_deployment 2
report "gateway + 2 workers"
start_nats_deployment 1 forward
report "gateway forwarding caller addresses + 1 worker"

