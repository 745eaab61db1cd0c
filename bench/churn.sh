#!/usr/bin/env bash
# Churn: what the bakery, the auth example, `telepact mock` and the NATS gateway keep
# once connections, logins and workers have come and gone by the thousand. For each
# service: its open file descriptors, resident memory (and where it counts something,
# that count) after a warm-up, then after the churn (bench/churn.py) and a settling
# pause. Fails when descriptors do not return to where they were.
#
# Usage: bench/churn.sh [connections (20000)] [addresses (5000)] [usernames (10000)]
# Env:   CARGO_TARGET_DIR (where to build), NO_BUILD (set: use the release binaries
#        already built), TIME_LIMIT (seconds for each churn run, default 600),
#        ONLY (one of bakery, auth, mock, nats).
#
# Loopback only (clients bind to 127.10.x.y); everything started is killed on exit.
set -euo pipefail

CONNECTIONS="${1:-20000}"
ADDRESSES="${2:-5000}"
USERNAMES="${3:-10000}"
TIME_LIMIT="${TIME_LIMIT:-600}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release"
FAILED=0

# shellcheck source=bench/services.sh
source "$ROOT/bench/services.sh"

if [[ -z "${NO_BUILD:-}" ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release --locked -p telepact-bakery \
        -p telepact-auth-example -p telepact-cli -p telepact-nats-deployment >&2)
fi

churn() { timeout "$((TIME_LIMIT + 30))" python3 "$ROOT/bench/churn.py" --time-limit "$TIME_LIMIT" "$@"; }

fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
reading() { echo "fds=$(fds "$1") rss_kib=$(rss_kib "$1")${2:+ $2}"; }

# settled NAME PID BEFORE_FDS: after the churn has ended and the server had a moment,
# descriptors must be where they were.
settled() {
    sleep 2
    local after
    after="$(fds "$2")"
    if [[ "$after" != "$3" ]]; then
        echo "$1: FAILED: $3 file descriptors before the churn, $after after" >&2
        FAILED=1
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

connections() {
    local port="$1" body="${2:-}"
    local quarter=$((CONNECTIONS / 4))
    for mode in http1 h2 ws; do
        local count="$CONNECTIONS"
        [[ "$mode" == ws ]] && count="$quarter"
        churn "$mode" --port "$port" --count "$count" --addresses "$ADDRESSES" ${body:+--body "$body"}
    done
}

bakery() {
    start "$BIN/telepact-bakery" --port 0 --metrics
    local series
    series() { curl -sS --max-time 10 "http://127.0.0.1:$PORT/metrics" | grep -c '^telepact_' || true; }
    churn http1 --port "$PORT" --count 1000 --addresses 100 >/dev/null
    local before
    before="$(fds "$PID")"
    echo "bakery before: $(reading "$PID" "metric_lines=$(series)")"
    connections "$PORT"
    settled bakery "$PID" "$before"
    echo "bakery after:  $(reading "$PID" "metric_lines=$(series)")"
}

auth() {
    local password="churn-$RANDOM-$RANDOM"
    local hash
    hash="$(printf '%s\n' "$password" | "$BIN/telepact-auth-example" hash-password)"
    cat >"$WORK/users.json" <<JSON
[{"username": "churn", "userId": "u-churn", "tenant": "t", "roles": ["member"],
  "scopes": ["profile:read"], "passwordHash": "$hash"}]
JSON
    start "$BIN/telepact-auth-example" --port 0 --db "$WORK/auth.sqlite3" --users "$WORK/users.json"
    local rows
    rows() { sqlite3 "$WORK/auth.sqlite3" 'select count(*) from credentials' 2>/dev/null || echo "?"; }
    churn failed-logins --port "$PORT" --count 20 --addresses 20 --workers 4 >/dev/null
    churn logins --port "$PORT" --count 4 --addresses 4 --workers 1 --user churn --password "$password" >/dev/null
    local before
    before="$(fds "$PID")"
    echo "auth before: $(reading "$PID" "store_rows=$(rows)")"
    churn failed-logins --port "$PORT" --count "$USERNAMES" --addresses "$ADDRESSES" --workers 4
    echo "auth after failed logins: $(reading "$PID" "store_rows=$(rows)")"
    churn logins --port "$PORT" --count 500 --addresses 50 --workers 1 --user churn --password "$password"
    connections "$PORT" '[{}, {"fn.me": {}}]'
    settled auth "$PID" "$before"
    echo "auth after:  $(reading "$PID" "store_rows=$(rows)")"
}

mock() {
    mkdir -p "$WORK/mock"
    cat >"$WORK/mock/churn.telepact.yaml" <<'YAML'
- fn.add:
    x: "integer"
    y: "integer"
  ->:
    - Ok_:
        result: "integer"
YAML
    start "$BIN/telepact" mock --dir "$WORK/mock" --host 127.0.0.1 --port 0
    local call='[{}, {"fn.add": {"x": 1, "y": 2}}]'
    local stub='[{}, {"fn.createStub_": {"stub": {"fn.add": {"x": 1}, "->": {"Ok_": {"result": 3}}}, "count!": 1}}]'
    post() { curl -sS --max-time 10 -d "$1" "http://127.0.0.1:$PORT/api" >/dev/null; }
    churn http1 --port "$PORT" --path /api --count 1000 --addresses 100 --body "$call" >/dev/null
    post '[{}, {"fn.clearCalls_": {}}]'
    local before
    before="$(fds "$PID")"
    echo "mock before: $(reading "$PID")"
    churn http1 --port "$PORT" --path /api --count "$CONNECTIONS" --addresses "$ADDRESSES" --body "$stub"
    churn http1 --port "$PORT" --path /api --count "$CONNECTIONS" --addresses "$ADDRESSES" --body "$call"
    churn ws --port "$PORT" --path /api --count "$((CONNECTIONS / 4))" --addresses "$ADDRESSES" --body "$call"
    settled mock "$PID" "$before"
    echo "mock after stubs and calls: $(reading "$PID")"
    post '[{}, {"fn.clearCalls_": {}}]'
    post '[{}, {"fn.clearStubs_": {}}]'
    echo "mock after clearing: $(reading "$PID")"
}

nats() {
    command -v nats-server >/dev/null || { echo "churn.sh: nats-server is not installed; nats skipped" >&2; return 0; }
    local nats_port
    nats_port="$(free_port)"
    nats-server -a 127.0.0.1 -p "$nats_port" >"$WORK/nats.log" 2>&1 &
    PIDS+=("$!")
    local url="nats://127.0.0.1:$nats_port"
    sleep 0.5
    local worker
    new_worker() {
        "$BIN/telepact-nats-deployment" --nats "$url" worker >"$WORK/worker.log" 2>&1 &
        worker=$!
        PIDS+=("$worker")
        sleep 0.3
    }
    new_worker
    start "$BIN/telepact-nats-deployment" --nats "$url" --timeout 2s gateway --port 0
    churn http1 --port "$PORT" --count 1000 --addresses 100 >/dev/null
    local before
    before="$(fds "$PID")"
    echo "nats gateway before: $(reading "$PID")"
    # Workers come and go: killed (half of them at once, half asked to drain) and
    # replaced while connections churn through the gateway.
    for round in $(seq 1 20); do
        churn http1 --port "$PORT" --count "$((CONNECTIONS / 20))" --addresses "$ADDRESSES" >/dev/null
        if ((round % 2)); then kill -KILL "$worker"; else kill -TERM "$worker"; fi
        wait "$worker" 2>/dev/null || true
        churn http1 --port "$PORT" --count 100 --addresses 100 >/dev/null
        new_worker
    done
    connections "$PORT"
    settled "nats gateway" "$PID" "$before"
    echo "nats gateway after 20 workers came and went: $(reading "$PID")"
}

for service in bakery auth mock nats; do
    if [[ -z "${ONLY:-}" || "$ONLY" == "$service" ]]; then
        "$service"
    fi
done
exit "$FAILED"
