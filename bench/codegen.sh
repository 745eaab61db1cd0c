#!/usr/bin/env bash
# Compile time of generated code: a crate whose schema has 200 functions and 500 types
# (400 structs, 100 unions), checked with `cargo check` three ways:
#   1. first check (dependencies already built; the crate, its build script and the
#      generated code compile from scratch),
#   2. after a schema edit (one field added to one struct),
#   3. with nothing changed (the build script must not run again: `cargo check -v`
#      must report the crate Fresh).
# Each check prints its wall time and, from `cargo check --timings`, the build script's
# run time and rustc's time for the crate.
#
# Usage: bench/codegen.sh [rounds (default 1)]
# Env:   CARGO_TARGET_DIR (shared with the workspace, so dependencies are not rebuilt),
#        BUILDER (builder calls for the build script, e.g. `.build_client(false)` for a
#        crate that only serves).
set -euo pipefail

ROUNDS="${1:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CRATE="$WORK/synthetic"
mkdir -p "$CRATE/api" "$CRATE/src"

# The schema: the same shape as codegen/benches/generate.rs. `$1` is an extra field
# for struct.S0 (empty for none), so an edit changes the generated code.
write_schema() {
    local extra="$1"
    {
        echo "["
        local i fields link
        for ((i = 0; i < 400; i++)); do
            fields='"id": "integer", "name": "string?", "tags!": ["string"], "data": {"string": "any"}, "blob!": "bytes"'
            if ((i > 0)); then
                fields+=", \"prev!\": \"struct.S$((i - 1))\", \"many\": [\"struct.S$((i - 1))\"]"
            elif [[ -n "$extra" ]]; then
                fields+=", $extra"
            fi
            fields+=", \"choice!\": \"union.U$((i % 100))\""
            echo "{\"///\": \" Struct $i.\", \"struct.S$i\": {$fields}},"
        done
        for ((i = 0; i < 100; i++)); do
            echo "{\"union.U$i\": [{\"Empty\": {}}, {\"One\": {\"value\": \"number\"}}, {\"Many\": {\"values\": [\"integer?\"], \"link!\": \"struct.S$((i * 3))\"}}]},"
        done
        for ((i = 0; i < 200; i++)); do
            link=""
            ((i > 0)) && link=", \"next!\": \"fn.f$((i - 1))\""
            local sep=","
            ((i == 199)) && sep=""
            echo "{\"///\": \" Function $i.\", \"fn.f$i\": {\"input\": \"struct.S$i\", \"flag!\": \"boolean\"$link}, \"->\": [{\"Ok_\": {\"output\": \"struct.S$(((i + 1) % 400))\"}}, {\"ErrorMissing\": {\"id\": \"integer\"}}]}$sep"
        done
        echo "]"
    } >"$CRATE/api/synthetic.telepact.json.tmp"
    mv "$CRATE/api/synthetic.telepact.json.tmp" "$CRATE/api/synthetic.telepact.json"
}

cat >"$CRATE/Cargo.toml" <<EOF
[package]
name = "synthetic-api"
edition = "2024"
version = "0.0.0"
publish = false

[workspace]

[dependencies]
telepact = { path = "$ROOT/runtime" }
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["preserve_order"] }

[build-dependencies]
telepact-codegen = { path = "$ROOT/codegen" }

# The workspace's dev profile, so the dependencies already built for it are reused.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
EOF
cat >"$CRATE/build.rs" <<EOF
fn main() -> Result<(), Box<dyn std::error::Error>> {
    telepact_codegen::configure()${BUILDER:-}.compile_dir("api")?;
    Ok(())
}
EOF
cat >"$CRATE/src/lib.rs" <<'EOF'
//! 200 functions and 500 types, generated at build time.
telepact::include_schema!("api");
EOF
# The workspace's lock, so the same dependency versions (already built) are used.
cp "$ROOT/Cargo.lock" "$CRATE/Cargo.lock"
write_schema ""

# Runs `cargo check --timings` and prints: wall seconds, build-script-run seconds,
# rustc seconds for the crate (0 when the unit did not run).
timed_check() {
    local started ended
    rm -rf "$CRATE/target-timings"
    started="$(date +%s.%N)"
    (cd "$CRATE" && CARGO_TARGET_DIR="$TARGET_DIR" cargo check --quiet --offline --timings \
        2>"$WORK/check.err") || { cat "$WORK/check.err" >&2; exit 1; }
    ended="$(date +%s.%N)"
    local report
    report="$(ls -t "$TARGET_DIR"/cargo-timings/cargo-timing-*.html | head -1)"
    python3 - "$report" "$started" "$ended" <<'PY'
import json, sys
html = open(sys.argv[1]).read()
start = html.index("const UNIT_DATA = ") + len("const UNIT_DATA = ")
units = json.JSONDecoder().raw_decode(html[start:])[0]
mine = [u for u in units if u["name"] == "synthetic-api"]
run = sum(u["duration"] for u in mine if u["target"].strip() == "build-script (run)")
rustc = sum(u["duration"] for u in mine if u["target"].strip() in ("", "(check)", "lib"))
print(f"{float(sys.argv[3]) - float(sys.argv[2]):.2f} {run:.2f} {rustc:.2f}")
PY
}

report() {
    read -r wall run rustc <<<"$2"
    printf '%-22s cargo check %6.2f s  (build.rs run %5.2f s, rustc %5.2f s)\n' "$1" "$wall" "$run" "$rustc"
}

echo "building the workspace's runtime and codegen for check (if needed)" >&2
(cd "$CRATE" && CARGO_TARGET_DIR="$TARGET_DIR" cargo check --quiet --offline 2>/dev/null) || true
OUT="$(dirname "$(ls -t "$TARGET_DIR"/debug/build/synthetic-api-*/out/api.rs | head -1)")"
echo "schema: 200 functions, 400 structs, 100 unions ($(wc -c <"$CRATE/api/synthetic.telepact.json") bytes);" \
    "generated: $(cat "$OUT"/api.rs "$OUT"/api.parts/*.rs | wc -c) bytes of Rust in $(ls "$OUT"/api.parts | wc -l) files;" \
    "$(nproc) cores" >&2

for round in $(seq "$ROUNDS"); do
    echo "round $round"
    # A changed build script reruns it, and without its incremental cache the crate
    # itself is checked from scratch.
    echo "// round $round $(date +%s%N)" >>"$CRATE/build.rs"
    rm -rf "$TARGET_DIR"/debug/incremental/synthetic_api-*
    report "first check" "$(timed_check)"
    write_schema "\"extra$round\": \"string\""
    report "after a schema edit" "$(timed_check)"
    report "nothing changed" "$(timed_check)"
    (cd "$CRATE" && CARGO_TARGET_DIR="$TARGET_DIR" cargo check -v --offline 2>&1) >"$WORK/verbose.out"
    if grep -q 'build-script-build`' "$WORK/verbose.out" ||
        ! grep -q 'Fresh synthetic-api' "$WORK/verbose.out"; then
        echo "nothing changed, yet the build script or the crate ran again:" >&2
        cat "$WORK/verbose.out" >&2
        exit 1
    fi
    echo "nothing changed: cargo check -v reports 'Fresh synthetic-api', build script not run"
    write_schema ""
done
