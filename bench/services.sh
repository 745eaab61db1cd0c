# Shared by the bench scripts that run several services at once (soak.sh, churn.sh;
# sourced, not run): a work folder and every server started, both gone on exit, and
# starting a server until it prints `READY <port>`.

WORK="$(mktemp -d)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Starts "$@" in the background, waits for its `READY <port>` line, sets PORT and PID.
start() {
    local log="$WORK/server.$RANDOM.log"
    # Made before the server starts: the background job may open it after the first look.
    : >"$log"
    "$@" >"$log" 2>"$log.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 100); do
        PORT="$(awk '/^READY / {print $2; exit}' "$log")"
        [[ -n "$PORT" ]] && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): $1 did not become ready" >&2
    cat "$log.err" >&2
    exit 1
}
