#!/usr/bin/env bash
# Compiles the code generated for the schemas in a `codegen` fuzz corpus, all in one
# scratch crate, and lists the errors and warnings rustc, clippy and rustdoc report: the
# fuzz target checks that generated code parses, this that it builds and documents
# cleanly (the names the generator makes, the paths and docs it writes), and that each
# module's embedded schema (`schema()`) loads again. Every schema that loads and
# generates is taken, largest first, up to LIMIT.
#
# Usage: runtime/fuzz/compile_corpus.sh [corpus dir (default corpus/codegen)] [LIMIT (400)]
# Env:   TELEPACT (a `telepact` binary to generate with; default: this tree's, built
#        first), SCRATCH (the scratch folder; default a new temporary one, removed on exit).
set -euo pipefail

FUZZ="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$FUZZ/../.." && pwd)"
CORPUS="${1:-$FUZZ/corpus/codegen}"
LIMIT="${2:-400}"
[[ -d "$CORPUS" ]] || { echo "no corpus folder: $CORPUS" >&2; exit 2; }
if [[ -z "${TELEPACT:-}" ]]; then
    (cd "$ROOT" && cargo build --quiet -p telepact-cli)
    TELEPACT="${CARGO_TARGET_DIR:-$ROOT/target}/debug/telepact"
fi
if [[ -z "${SCRATCH:-}" ]]; then
    SCRATCH="$(mktemp -d)"
    trap 'rm -rf "$SCRATCH"' EXIT
fi
mkdir -p "$SCRATCH/src" "$SCRATCH/schemas"
cat >"$SCRATCH/Cargo.toml" <<TOML
[package]
name = "corpus-check"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
telepact = { path = "$ROOT/runtime", default-features = false }

[workspace]
TOML
cp "$ROOT/Cargo.lock" "$SCRATCH/"
: >"$SCRATCH/src/lib.rs"

taken=0
while IFS= read -r file && ((taken < LIMIT)); do
    dir="$SCRATCH/schemas/m$taken"
    mkdir -p "$dir"
    # The loader reads a file by its extension; YAML reads JSON too.
    cp "$file" "$dir/schema.telepact.yaml"
    if "$TELEPACT" codegen --schema-dir "$dir" --module "m$taken" \
        --out "$SCRATCH/src/m$taken.rs" 2>/dev/null; then
        echo "include!(\"m$taken.rs\"); // $(basename "$file")" >>"$SCRATCH/src/lib.rs"
        taken=$((taken + 1))
    else
        rm -rf "$dir"
    fi
done < <(find "$CORPUS" -maxdepth 1 -type f -printf '%s %p\n' | sort -rn | cut -d' ' -f2-)

# Each module's embedded schema loads again at run time.
{
    echo "#[test]"
    echo "fn every_embedded_schema_loads() {"
    for ((at = 0; at < taken; at++)); do
        echo "    let _ = m$at::schema();"
    done
    echo "}"
} >>"$SCRATCH/src/lib.rs"

echo "compiling the code of $taken schemas from $CORPUS" >&2
status=0
(cd "$SCRATCH" && cargo clippy --quiet --message-format short 2>"$SCRATCH/build.log") || status=$?
# rustdoc: the docs made of schema docstrings and names.
if ((status == 0)); then
    (cd "$SCRATCH" && cargo doc --quiet --no-deps 2>>"$SCRATCH/build.log") || status=$?
fi
if ((status == 0)); then
    (cd "$SCRATCH" && cargo test --quiet >>"$SCRATCH/build.log" 2>&1) || status=$?
fi
grep -E '(error|warning)(\[|:)' "$SCRATCH/build.log" || true
if ((status != 0)) || grep -q 'warning' "$SCRATCH/build.log"; then
    grep -A5 'panicked' "$SCRATCH/build.log" || true
    echo "the generated code does not build cleanly, or an embedded schema does not load (see above)" >&2
    exit 1
fi
echo "the generated code of $taken schemas builds and documents without warnings, and its schemas load" >&2
