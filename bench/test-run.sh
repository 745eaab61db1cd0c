#!/usr/bin/env bash
# The README's test command from a fresh clone, as CI runs it: clones each revision given
# into a work folder (with `shared/` linked beside it), then times
#   1. the build of the tests (`cargo test --workspace --locked --no-run --timings`),
#   2. the tests themselves (`cargo test --workspace --locked`),
# and prints one line per revision: wall and CPU seconds of each phase, the build's unit
# count and summed unit time, and the size of `target/`. Each clone is removed after its
# line. Revisions run in the order given, so `main HEAD main HEAD` alternates two builds
# (this machine's speed moved by a third within two hours; compare rounds run back to back).
#
# Usage: bench/test-run.sh [revision...] (default: HEAD)
# Env:   crates are taken from the local registry: run `cargo fetch` once first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="$(cd "$ROOT/.." && pwd)/shared"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
[[ -d "$SHARED" ]] || { echo "no shared/ beside the project: the tests need it" >&2; exit 1; }
ln -s "$SHARED" "$WORK/shared"

# Runs `$2...` in `$1`, appending "wall user+system" seconds to the line being built.
timed() {
    local dir="$1" started
    shift
    started="$(date +%s.%N)"
    (cd "$dir" && /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$@" >"$WORK/out" 2>&1) || {
        # The whole output outlives the work folder: a failure in a long test log is
        # rarely in its last lines.
        local kept
        kept="$(mktemp "${TMPDIR:-/tmp}/test-run-failure.XXXXXX")"
        cp "$WORK/out" "$kept"
        tail -n 30 "$WORK/out" >&2
        echo "the whole output: $kept" >&2
        exit 1
    }
    python3 -c 'import sys; u, s = open(sys.argv[3]).read().split(); print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f} s wall, {float(u) + float(s):.0f} s CPU", end="")' \
        "$started" "$(date +%s.%N)" "$WORK/cpu"
}

# The build's unit count and summed unit time, from its `--timings` report.
units() {
    python3 - "$1"/target/cargo-timings/cargo-timing.html <<'PY'
import json, sys
html = open(sys.argv[1]).read()
start = html.index("const UNIT_DATA = ") + len("const UNIT_DATA = ")
units = json.JSONDecoder().raw_decode(html[start:])[0]
print(f"{len(units)} units, {sum(u['duration'] for u in units):.0f} s", end="")
PY
}

export CARGO_INCREMENTAL=0 TELEPACT_REQUIRE_ALL=1
for revision in "${@:-HEAD}"; do
    clone="$WORK/project"
    git clone --quiet "$ROOT" "$clone"
    git -C "$clone" checkout --quiet "$(git -C "$ROOT" rev-parse "$revision")"
    build="$(timed "$clone" cargo test --workspace --locked --offline --no-run --timings)"
    tests="$(timed "$clone" cargo test --workspace --locked --offline)"
    echo "$revision ($(git -C "$clone" rev-parse --short HEAD)): build $build ($(units "$clone"));" \
        "tests $tests; target/ $(du -sh "$clone/target" | cut -f1); load $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -rf "$clone"
done
