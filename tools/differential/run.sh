#!/usr/bin/env bash
# Differential runs against the reference Python library and command line tool (PyPI
# `telepact`, `telepact-cli`): the conformance test server (in JSON and in binary), its
# auth variant, its schema validator and the mock server, on the reference library and
# on this runtime (`conformance_server`), sent the same mutated conformance requests;
# both tools' `demo-server`, sent the same sessions of calls (as many as the mock's);
# then both tools' `compare` on the same random schema edits. Prints one line per mode:
# what was sent, the differences, and each difference's known reason; exits 1 if any
# difference has none. Every difference is kept in OUT_DIR/<mode>.jsonl.
#
# Usage: tools/differential/run.sh [requests (default 20000)] [mock and demo sessions (default 2000)]
#                                  [schema pairs (default 500)] [seed (default 1)]
# Env:   TELEPACT_CONFORMANCE_DIR (default ../shared/telepact-conformance), CARGO_TARGET_DIR,
#        DIFF_VENV (the reference library's virtualenv, made on first use; default
#        $CARGO_TARGET_DIR/differential-venv), OUT_DIR (default: a temporary folder, kept),
#        NO_BUILD (set: use the conformance_server already built).
#
# Needs python3 with venv and network access to PyPI on first use. Loopback only; each
# mode's servers are stopped when it ends, and any left on exit.
set -euo pipefail
shopt -s inherit_errexit

REQUESTS="${1:-20000}"
SESSIONS="${2:-2000}"
PAIRS="${3:-500}"
SEED="${4:-1}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CONFORMANCE="${TELEPACT_CONFORMANCE_DIR:-$ROOT/../shared/telepact-conformance}"
VENV="${DIFF_VENV:-$TARGET_DIR/differential-venv}"
OUT_DIR="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$OUT_DIR"
REFERENCE_VERSION=1.0.0a339
PIDS=()

# Stops the servers started so far.
stop_servers() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap stop_servers EXIT

[[ -d "$CONFORMANCE" ]] || { echo "no conformance vectors at $CONFORMANCE" >&2; exit 1; }
CONFORMANCE="$(cd "$CONFORMANCE" && pwd)"
if [[ ! -x "$VENV/bin/telepact" ]]; then
    echo "installing telepact and telepact-cli $REFERENCE_VERSION into $VENV" >&2
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "telepact==$REFERENCE_VERSION" "telepact-cli==$REFERENCE_VERSION"
fi
if [[ -z "${NO_BUILD:-}" ]]; then
    echo "building conformance_server and the telepact tool (release)" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release \
        -p telepact --example conformance_server -p telepact-cli --bin telepact)
fi

# Starts `$@` from the conformance folder and sets PORT to the port it reports with
# `READY`. Not to be called in `$(...)`: the pid it records must reach this shell.
start() {
    local log
    log="$(mktemp -p "$OUT_DIR")"
    (cd "$CONFORMANCE" && exec "$@") >"$log" 2>&1 &
    PIDS+=($!)
    PORT=""
    for _ in $(seq 300); do
        PORT="$(sed -n 's/^READY //p' "$log")"
        [[ -n "$PORT" ]] && return 0
        sleep 0.1
    done
    echo "server '$*' did not start:" >&2
    cat "$log" >&2
    exit 1
}

# Starts the reference CLI's demo-server, which takes a port but does not say when it
# listens, on a free port, and sets PORT once it answers.
start_reference_demo() {
    PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$VENV/bin/telepact" demo-server --port "$PORT" >"$(mktemp -p "$OUT_DIR")" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the reference demo-server did not start on port $PORT" >&2
    exit 1
}

# Runs the `demo` mode, `$1` sessions, then stops both demo servers.
run_demo() {
    local reference ours
    start_reference_demo
    reference="$PORT"
    start "$TARGET_DIR/release/telepact" demo-server --host 127.0.0.1 --port 0 --unavailable-rate 0
    ours="$PORT"
    "$VENV/bin/python" "$HERE/differential.py" demo "$reference" "$ours" "$1" "$SEED" \
        "$OUT_DIR/demo.jsonl" || status=1
    stop_servers
}

# Runs mode `$1` against schema folder `$2` with server flag `$3` (or none), `$4` times,
# then stops both servers.
run_mode() {
    local reference ours
    start "$VENV/bin/python" "$HERE/reference_server.py" "schemas/$2" ${3:+"$3"}
    reference="$PORT"
    start "$TARGET_DIR/release/examples/conformance_server" --schema "schemas/$2" ${3:+"$3"}
    ours="$PORT"
    TELEPACT_CONFORMANCE_DIR="$CONFORMANCE" "$VENV/bin/python" "$HERE/differential.py" \
        "$1" "$reference" "$ours" "$4" "$SEED" "$OUT_DIR/$1.jsonl" || status=1
    stop_servers
}

status=0
run_mode server example "" "$REQUESTS"
run_mode binary example "" "$REQUESTS"
run_mode auth auth --auth "$REQUESTS"
run_mode schema parse --validate-schemas "$REQUESTS"
run_mode mock example --mock "$SESSIONS"
run_demo "$SESSIONS"
TELEPACT_CONFORMANCE_DIR="$CONFORMANCE" "$VENV/bin/python" "$HERE/compare.py" "$VENV/bin/telepact" \
    "$TARGET_DIR/release/telepact" "$PAIRS" "$SEED" "$OUT_DIR/compare.jsonl" || status=1
echo "differences kept in $OUT_DIR" >&2
exit "$status"
