#!/usr/bin/env bash
# The testing half at the size of a real API. For each size N (functions), writes
# `bench/big-schema.py N` and its next version, then measures:
#   - `telepact compare` of the two versions (two loads and the check): time (wall and
#     CPU), peak memory;
#   - `telepact codegen` of the first: time (wall and CPU), peak memory, bytes of Rust
#     written;
#   - `telepact mock` of the first: time until READY, resident memory then, and what
#     `bench/big-mock.py` measures against it (`fn.api_`, a generated deep answer, a stub
#     found behind 1 to 10,000 others, `fn.verify_` over 10,000 recorded calls), then the
#     mock's peak resident memory;
#   - for the sizes in CHECK_SIZES, `cargo check` of a crate including the generated
#     code (its dependencies checked first, untimed): time (wall and CPU) and rustc's
#     peak memory.
#
# Usage: bench/big-schema.sh [N ...]   (default: 200 1000 5000)
# Env:   TELEPACT_BIN (a `telepact` binary to measure instead of this tree's release
#        build), NO_BUILD (set: use the binary already built), CARGO_TARGET_DIR,
#        CHECK_SIZES (default "200"; "" for none: 1,000 functions took 9 minutes and
#        12 GB), CALLS (recorded calls for fn.verify_, default 10000), TIME_LIMIT
#        (seconds each step may take, default 900).
#
# Loopback only; every mock started is stopped before the next step.
set -euo pipefail
shopt -s inherit_errexit

SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(200 1000 5000)
TIME_LIMIT="${TIME_LIMIT:-900}"
CALLS="${CALLS:-10000}"
CHECK_SIZES="${CHECK_SIZES-200}"
# shellcheck source=bench/cli-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli-lib.sh"

# Starts `telepact mock` of `$1`, prints the time until READY and the resident memory
# then, runs bench/big-mock.py against it, and prints its peak resident memory.
mock_figures() {
    local port pid
    start_mock "$1" || { echo "mock failed"; return; }
    echo "mock_ready_s $MOCK_READY_S"
    # The mock is `timeout`'s child.
    pid="$(pgrep -n -P "$MOCK_PID")"
    awk '/VmRSS/ { printf "mock_rss_ready_mb %.0f\n", $2 / 1024 }' "/proc/$pid/status"
    port="$(awk '/^READY/ { print $2 }' "$WORK/mock.out")"
    timeout "$TIME_LIMIT" python3 "$ROOT/bench/big-mock.py" "$port" --calls "$CALLS"
    awk '/VmHWM/ { printf "mock_rss_peak_mb %.0f\n", $2 / 1024 }' "/proc/$pid/status"
    stop_mock
}

# `cargo check` of a crate that includes generated file `$1` (dependencies first).
rustc_check() {
    local crate="$WORK/check"
    mkdir -p "$crate/src"
    cat >"$crate/Cargo.toml" <<EOF
[package]
name = "big-api"
edition = "2024"
version = "0.0.0"
publish = false

[workspace]

[dependencies]
telepact = { path = "$ROOT/runtime" }
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["preserve_order"] }

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
EOF
    cp "$ROOT/Cargo.lock" "$crate/Cargo.lock"
    echo "" >"$crate/src/lib.rs"
    (cd "$crate" && CARGO_TARGET_DIR="$TARGET_DIR" cargo check --quiet --offline) >&2
    cp "$1" "$crate/src/lib.rs"
    (cd "$crate" && measured env CARGO_TARGET_DIR="$TARGET_DIR" cargo check --quiet --offline)
}

for size in "${SIZES[@]}"; do
    old="$WORK/old$size"
    new="$WORK/new$size"
    python3 "$ROOT/bench/big-schema.py" "$size" "$old"
    python3 "$ROOT/bench/big-schema.py" "$size" "$new" --changed
    echo "== $size functions: $(du -sk "$old" | cut -f1) KB of YAML in $(ls "$old" | wc -l) files"
    echo "compare $(measured "$TELEPACT" compare --old-schema-dir "$old" --new-schema-dir "$new")"
    echo "codegen $(measured "$TELEPACT" codegen --schema-dir "$old" --out "$WORK/api.rs")" \
        "$(wc -c <"$WORK/api.rs" 2>/dev/null || echo 0) bytes"
    mock_figures "$old"
    if [[ " $CHECK_SIZES " == *" $size "* ]]; then
        echo "cargo_check $(rustc_check "$WORK/api.rs")"
    fi
    rm -rf "$old" "$new" "$WORK/api.rs"
done
