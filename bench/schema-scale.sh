#!/usr/bin/env bash
# How the work on a schema grows with its size. For each shape of schema, generated at
# N and at 4N definitions: `telepact compare` of the schema with itself (two loads and
# the compatibility check), its wall and CPU time and peak memory; the time until
# `telepact mock` serves it (a load, the validator, the generator's depths); and
# `telepact codegen` of it, its wall and CPU time and peak memory. The last line of a shape is
# the growth of compare's time from N to 4N: about 4 where the work is linear in the
# size, 16 where it is quadratic.
#
# Shapes: a chain of structs each requiring the next (declared first to last), the same
# with unions, one struct of N fields, N header definitions, N functions, N functions
# whose results all reach a chain of N structs (what `@select_` may name for each), and
# N error sets beside eight functions (every function's result takes every set's tag, as
# the protocol merges them: a schema's model grows with functions × error tags).
#
# Usage: bench/schema-scale.sh [N (default 5000)]
# Env:   TELEPACT_BIN (a `telepact` binary to measure instead of this tree's release
#        build: a build of an earlier commit, to compare), NO_BUILD (set: use the binary
#        already built), CARGO_TARGET_DIR (where to build), TIME_LIMIT (seconds each run
#        may take, default 120: a run past it is reported as such), SHAPES (the shapes
#        to measure, separated by spaces; all of them by default).
#
# Loopback only; each mock server is stopped as soon as it is ready.
set -euo pipefail
shopt -s inherit_errexit

N="${1:-5000}"
TIME_LIMIT="${TIME_LIMIT:-120}"
# shellcheck source=bench/cli-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli-lib.sh"

# Writes the schema of shape `$1` with `$2` definitions into directory `$3`.
generate() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, os, sys
shape, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if shape == "struct-chain":
    defs = [{f"struct.S{i}": {"next": f"struct.S{i + 1}"}} for i in range(n)]
    defs.append({f"struct.S{n}": {}})
elif shape == "union-chain":
    defs = [{f"union.U{i}": [{"Next": {"next": f"union.U{i + 1}"}}]} for i in range(n)]
    defs.append({f"union.U{n}": [{"End": {}}]})
elif shape == "wide-struct":
    defs = [{"struct.Wide": {f"field{i}": "integer" for i in range(n)}}]
elif shape == "headers":
    defs = [{f"headers.H{i}": {f"@in{i}": "string"}, "->": {f"@out{i}": "string"}}
            for i in range(n)]
elif shape == "functions":
    defs = [{f"fn.call{i}": {"a": "integer"}, "->": [{"Ok_": {"b": "integer"}}]}
            for i in range(n)]
elif shape == "shared-reach":
    defs = [{f"fn.call{i}": {}, "->": [{"Ok_": {"first": "struct.S0"}}]} for i in range(n)]
    defs += [{f"struct.S{i}": {"next!": f"struct.S{i + 1}", "v": "integer"}} for i in range(n)]
    defs.append({f"struct.S{n}": {}})
elif shape == "error-sets":
    defs = [{f"fn.call{i}": {}, "->": [{"Ok_": {}}]} for i in range(8)]
    defs += [{f"errors.Set{i}": [{f"Error{i}": {"why": "string"}}]} for i in range(n)]
else:
    sys.exit(f"unknown shape {shape}")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "api.telepact.json"), "w") as file:
    json.dump(defs, file)
PY
}

# Prints the seconds until `telepact mock` serves schema directory `$1` (run in
# `$(...)`: the mock is started and stopped within it).
mock_ready() {
    start_mock "$1" || { echo "failed"; return; }
    stop_mock
    echo "$MOCK_READY_S s"
}

printf '%-13s %7s  %-34s %-12s %-34s\n' shape size "compare (time, CPU, memory)" "mock ready" \
    "codegen (time, CPU, memory)"
for shape in ${SHAPES:-struct-chain union-chain wide-struct headers functions shared-reach error-sets}; do
    times=()
    for size in "$N" $((4 * N)); do
        dir="$WORK/$shape-$size"
        generate "$shape" "$size" "$dir"
        compared="$(measured "$TELEPACT" compare --new-schema-dir "$dir" --old-schema-dir "$dir")"
        ready="$(mock_ready "$dir")"
        generated="$(measured "$TELEPACT" codegen --schema-dir "$dir" --out "$WORK/generated.rs")"
        printf '%-13s %7s  %-34s %-12s %-34s\n' "$shape" "$size" "$compared" "$ready" "$generated"
        times+=("${compared%% *}")
        rm -rf "$dir" "$WORK/generated.rs"
    done
    awk -v a="${times[0]}" -v b="${times[1]}" -v shape="$shape" \
        'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%-13s compare at 4N took %.1f times as long\n", shape, b / a }'
done
