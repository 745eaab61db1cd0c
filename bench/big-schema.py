#!/usr/bin/env python3
"""Writes the schema directory of a large, realistic API, for measuring the testing half.

The API has N functions spread over files of 50 (one per "service"), and for each
function two structs of 10–50 fields in a five-level hierarchy (a level-0 struct holds
level-1 structs, down to level 4), plus a union of 20 tags for every ten functions. Fields
mix every type the protocol has: primitives, nullable types, arrays, objects, optional
fields, structs and unions of the next level. Six error sets (shared by every function, as
the protocol merges them) and three header definitions stand beside them.

`--changed` writes the next version of the same API, with the kinds of change a real one
sees: optional fields added here and there, one field removed, one union tag removed, one
field's type changed, and a few new functions; `telepact compare OLD NEW` then has
something to report.

Seeded and bounded: the same arguments write the same files, and nothing is fetched.

Usage: bench/big-schema.py N OUT_DIR [--seed S] [--changed] [--format json|yaml]
"""

import argparse
import json
import os
import random

FUNCTIONS_PER_FILE = 50
LEVELS = 5
UNION_TAGS = 20
PRIMITIVES = ["boolean", "integer", "number", "string"]


def primitive_type(rng):
    return wrapped(rng.choice(PRIMITIVES + ["string", "integer", "any"]), rng.random(),
                   (0.55, 0.7, 0.85))


def reference_type(rng, name):
    return wrapped(name, rng.random(), (0.5, 0.7, 0.9))


def wrapped(name, draw, below):
    """`name` as it is, nullable, in an array or in an object, as `draw` falls under the
    three cumulative chances of `below`."""
    plain, nullable, array = below
    if draw < plain:
        return name
    if draw < nullable:
        return name + "?"
    if draw < array:
        return [name]
    return {"string": name}


class Api:
    """The definitions of one version, kept as ordered dicts until written."""

    def __init__(self, functions, rng):
        self.rng = rng
        self.functions = functions
        self.structs = {}  # name -> {field: type}
        self.unions = {}  # name -> [(tag, {field: type})]
        self.struct_level = {}
        self.fn_defs = {}  # name -> (input fields, ok fields)
        self._build()

    def struct_name(self, level, i):
        return f"struct.L{level}Item{i}"

    def union_name(self, i):
        return f"union.Choice{i}"

    def _fields(self, count, children):
        rng = self.rng
        fields = {}
        for i in range(count):
            name = f"field{i}"
            if rng.random() < 0.3:
                name += "!"
            fields[name] = primitive_type(rng)
        for j, child in enumerate(children):
            name = f"child{j}" + ("!" if rng.random() < 0.3 else "")
            fields[name] = reference_type(rng, child)
        return fields

    def _build(self):
        rng = self.rng
        per_level = max(1, (2 * self.functions) // LEVELS)
        unions = max(1, self.functions // 10)
        for level in range(LEVELS):
            for i in range(per_level):
                children = []
                if level + 1 < LEVELS:
                    children = [
                        self.struct_name(level + 1, rng.randrange(per_level))
                        for _ in range(rng.randint(1, 2))
                    ]
                    if rng.random() < 0.3:
                        children.append(self.union_name(rng.randrange(unions)))
                name = self.struct_name(level, i)
                self.structs[name] = self._fields(rng.randint(10, 50), children)
                self.struct_level[name] = level
        for i in range(unions):
            tags = []
            for t in range(UNION_TAGS):
                payload = {
                    f"value{k}": primitive_type(rng) for k in range(rng.randint(0, 4))
                }
                if rng.random() < 0.2:
                    payload["detail!"] = self.struct_name(LEVELS - 1, rng.randrange(per_level))
                tags.append((f"Tag{t}", payload))
            self.unions[self.union_name(i)] = tags
        for i in range(self.functions):
            self.add_function(i, per_level, unions)

    def add_function(self, i, per_level, unions):
        rng = self.rng
        # One required argument, the rest optional: a test can call any function.
        inputs = {"requestId": "string"}
        inputs.update({f"arg{k}!": primitive_type(rng) for k in range(rng.randint(2, 8))})
        inputs["filter!"] = self.struct_name(2, rng.randrange(per_level))
        ok = {f"out{k}": primitive_type(rng) for k in range(rng.randint(1, 5))}
        ok["item"] = self.struct_name(0, rng.randrange(per_level))
        ok["items!"] = [self.struct_name(1, rng.randrange(per_level))]
        ok["choice!"] = self.union_name(rng.randrange(unions))
        self.fn_defs[f"fn.service{i // FUNCTIONS_PER_FILE}Call{i}"] = (inputs, ok)

    def change(self):
        """The next version: compatible additions and a few breaking changes."""
        rng = self.rng
        names = sorted(self.structs)
        for name in names[::40]:
            self.structs[name]["addedLater!"] = "string"
        removed_from = names[len(names) // 3]
        del self.structs[removed_from][next(iter(self.structs[removed_from]))]
        retyped = names[len(names) // 2]
        field = next(iter(self.structs[retyped]))
        self.structs[retyped][field] = "integer" if self.structs[retyped][field] != "integer" else "string"
        union = sorted(self.unions)[0]
        self.unions[union].pop()
        per_level = max(1, (2 * self.functions) // LEVELS)
        unions = len(self.unions)
        for i in range(self.functions, self.functions + max(1, self.functions // 100)):
            self.add_function(i, per_level, unions)
        return {"removed": removed_from, "retyped": retyped, "tag removed from": union}

    def files(self):
        """Definitions grouped by file: one file per service, shared types in their own."""
        per_service = {}
        for name, (inputs, ok) in self.fn_defs.items():
            service = name.split("Call")[0][len("fn."):]
            per_service.setdefault(service, []).append(
                {"///": f" Calls {name[3:]}. ", name: inputs, "->": [{"Ok_": ok}]}
            )
        files = {f"{service}.telepact": defs for service, defs in per_service.items()}
        files["types.telepact"] = [{name: fields} for name, fields in self.structs.items()] + [
            {name: [{tag: payload} for tag, payload in tags]} for name, tags in self.unions.items()
        ]
        files["common.telepact"] = self.common()
        return files

    def common(self):
        defs = [{"///": " A large generated API. ", "info.Big": {}}]
        for i in range(6):
            tags = [{f"Error{i}Kind{k}": {"message": "string", "code!": "integer"}} for k in range(2 + i % 3)]
            defs.append({f"errors.Set{i}": tags})
        for i in range(3):
            defs.append({f"headers.Common{i}": {f"@requestTag{i}": "string"}, "->": {f"@responseTag{i}": "integer"}})
        return defs


def yaml_scalar(value):
    return json.dumps(value)


def write_yaml(value, indent, out):
    """Block-style YAML of JSON-like data; strings double-quoted (JSON's escapes are YAML's)."""
    pad = "  " * indent
    if isinstance(value, list):
        if not value:
            out.append(" []")
            return
        for item in value:
            if isinstance(item, (dict, list)) and item:
                out.append(f"\n{pad}-")
                write_yaml(item, indent + 1, out)
            else:
                out.append(f"\n{pad}- {yaml_scalar(item) if not isinstance(item, (dict, list)) else json.dumps(item)}")
    elif isinstance(value, dict):
        if not value:
            out.append(" {}")
            return
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"\n{pad}{yaml_scalar(key)}:")
                write_yaml(item, indent + 1, out)
            else:
                text = json.dumps(item) if isinstance(item, (dict, list)) else yaml_scalar(item)
                out.append(f"\n{pad}{yaml_scalar(key)}: {text}")
    else:
        out.append(" " + yaml_scalar(value))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("functions", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changed", action="store_true")
    parser.add_argument("--format", choices=["json", "yaml"], default="yaml")
    args = parser.parse_args()
    if not 1 <= args.functions <= 100_000:
        parser.error("N must be between 1 and 100000")
    api = Api(args.functions, random.Random(args.seed))
    if args.changed:
        api.change()
    os.makedirs(args.out, exist_ok=True)
    for stem, defs in api.files().items():
        path = os.path.join(args.out, f"{stem}.{args.format}")
        with open(path, "w") as file:
            if args.format == "json":
                json.dump(defs, file, indent=1)
            else:
                out = []
                write_yaml(defs, 0, out)
                file.write("".join(out).lstrip("\n") + "\n")


if __name__ == "__main__":
    main()
