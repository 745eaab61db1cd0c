#!/usr/bin/env bash
# Load and soak: the bakery and the auth example under wrk on loopback, each for a fixed
# time. Reports per service: requests, non-200 answers, wrong answers (body differs from
# the expected one), p50/p99 latency, and resident memory at start and end (must stay
# within 10 %). Exits non-zero when any of those checks fails.
#
# Usage: bench/soak.sh [seconds (default 60)] [connections (default 64)]
# Env:   CARGO_TARGET_DIR (where to build), WRK_THREADS (2), NO_BUILD (set: use the
#        release binaries already in the target dir).
#
# Loopback only. Servers are killed on exit; wrk runs under `timeout`.
set -euo pipefail

DURATION="${1:-60}"
CONNECTIONS="${2:-64}"
THREADS="${WRK_THREADS:-2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
FAILED=0

# shellcheck source=bench/services.sh
source "$ROOT/bench/services.sh"

command -v wrk >/dev/null || { echo "soak.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

if [[ -z "${NO_BUILD:-}" ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release --locked \
        -p telepact-bakery -p telepact-auth-example >&2)
fi

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# soak NAME BODY EXPECTED [AUTHORIZATION]
soak() {
    local name="$1"
    printf '%s' "$2" >"$WORK/body.json"
    printf '%s' "$3" >"$WORK/expect.json"
    local before after result
    # Warm up (connection pools, allocator arenas) before the first memory reading.
    SOAK_BODY="$WORK/body.json" SOAK_EXPECT="$WORK/expect.json" SOAK_AUTH="${4:-}" \
        timeout 30 wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s "$ROOT/bench/soak.lua" \
        "http://127.0.0.1:$PORT/api/telepact" >/dev/null
    before="$(rss_kib "$PID")"
    result="$(SOAK_BODY="$WORK/body.json" SOAK_EXPECT="$WORK/expect.json" SOAK_AUTH="${4:-}" \
        timeout $((DURATION + 30)) wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" \
        --timeout 5s -s "$ROOT/bench/soak.lua" "http://127.0.0.1:$PORT/api/telepact" | tail -1)"
    after="$(rss_kib "$PID")"
    echo "$name: $result rss_start_kib=$before rss_end_kib=$after"
    local non_200 wrong errors
    non_200="$(sed -n 's/.*non_200=\([0-9]*\).*/\1/p' <<<"$result")"
    wrong="$(sed -n 's/.*wrong=\([0-9]*\).*/\1/p' <<<"$result")"
    errors="$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$result")"
    if [[ "$non_200" != 0 || "$wrong" != 0 || "$errors" != 0 ]]; then
        echo "$name: FAILED (non-200, wrong answers or socket errors)" >&2
        FAILED=1
    fi
    if (( after * 10 > before * 11 || after * 10 < before * 9 )); then
        echo "$name: FAILED (resident memory moved more than 10 %)" >&2
        FAILED=1
    fi
}

BIN="$TARGET_DIR/release"

start "$BIN/telepact-bakery" --port 0
soak bakery '[{}, {"fn.ping_": {}}]' '[{},{"Ok_":{}}]'

# The auth example with one user whose password the script knows, a fresh database,
# and a bearer token from one login; the soak then calls fn.me with it.
PASSWORD="soak-$RANDOM-$RANDOM"
HASH="$(printf '%s\n' "$PASSWORD" | "$BIN/telepact-auth-example" hash-password)"
cat >"$WORK/users.json" <<JSON
[{"username": "soak", "userId": "u-soak", "tenant": "t", "roles": ["member"],
  "scopes": ["profile:read"], "passwordHash": "$HASH"}]
JSON
start "$BIN/telepact-auth-example" --port 0 --db "$WORK/auth.sqlite3" --users "$WORK/users.json"
TOKEN="$(curl -sS --max-time 10 -u "soak:$PASSWORD" -H 'Content-Type: application/json' \
    -d '[{}, {"fn.login": {}}]' "http://127.0.0.1:$PORT/api/telepact" \
    | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')"
[[ -n "$TOKEN" ]] || { echo "soak.sh: the auth example answered no token" >&2; exit 1; }
EXPECTED_ME="$(curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" \
    -d '[{}, {"fn.me": {}}]' "http://127.0.0.1:$PORT/api/telepact")"
soak auth-example '[{}, {"fn.me": {}}]' "$EXPECTED_ME" "Bearer $TOKEN"

exit "$FAILED"
