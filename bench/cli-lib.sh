# Shared by the scripts that measure the `telepact` CLI on generated schemas
# (schema-scale.sh, big-schema.sh): the CLI they run (built unless TELEPACT_BIN or
# NO_BUILD says otherwise), a scratch folder removed at exit, the mock they start and
# stop, and how they time a run. Set TIME_LIMIT before sourcing it.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TELEPACT="${TELEPACT_BIN:-$TARGET_DIR/release/telepact}"
WORK="$(mktemp -d)"
MOCK_PID=""

cleanup() {
    [[ -n "$MOCK_PID" ]] && kill "$MOCK_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed" >&2; exit 0; }
done
if [[ -z "${TELEPACT_BIN:-}" && -z "${NO_BUILD:-}" ]]; then
    echo "building the telepact CLI (release)" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release --locked \
        -p telepact-cli --bin telepact)
fi

# Prints the seconds, CPU seconds (user and system, the command's children included)
# and peak megabytes of the command given, or "failed" when it failed or ran past
# TIME_LIMIT; the first word is the seconds. The CPU time moves less than the wall time
# beside other work on the machine. `telepact compare` finding incompatible changes
# (status 1) is a run, not a failure.
measured() {
    local started finished
    started="$(date +%s.%N)"
    if ! /usr/bin/time -f '%M %U %S' -o "$WORK/peak" timeout "$TIME_LIMIT" "$@" >/dev/null 2>"$WORK/err"; then
        [[ "$1" == "$TELEPACT" && "$2" == compare ]] && grep -q '^[0-9]' "$WORK/peak" \
            || { echo "failed"; return; }
    fi
    finished="$(date +%s.%N)"
    tail -n 1 "$WORK/peak" | awk -v a="$started" -v b="$finished" \
        '{ printf "%.3f s (%.2f s CPU) %.0f MB", b - a, $2 + $3, $1 / 1024 }'
}

# Starts `telepact mock` of schema directory `$1` (MOCK_PID, its output in
# $WORK/mock.out) and waits for its READY line, the seconds that took in MOCK_READY_S;
# returns 1 if it ends before. Call it as it is, not in `$(...)`: MOCK_PID must reach
# the caller.
start_mock() {
    local started now
    : >"$WORK/mock.out"
    started="$(date +%s.%N)"
    timeout "$TIME_LIMIT" "$TELEPACT" mock --dir "$1" --host 127.0.0.1 --port 0 \
        >"$WORK/mock.out" 2>/dev/null &
    MOCK_PID=$!
    while ! grep -q '^READY ' "$WORK/mock.out"; do
        if ! kill -0 "$MOCK_PID" 2>/dev/null; then
            MOCK_PID=""
            return 1
        fi
        sleep 0.01
    done
    now="$(date +%s.%N)"
    MOCK_READY_S="$(awk -v a="$started" -v b="$now" 'BEGIN { printf "%.3f", b - a }')"
}

# Stops the mock start_mock started.
stop_mock() {
    kill "$MOCK_PID" 2>/dev/null
    wait "$MOCK_PID" 2>/dev/null || true
    MOCK_PID=""
}
