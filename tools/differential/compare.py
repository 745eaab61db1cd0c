"""Runs the backwards-compatibility check of two `telepact` command line tools, the
reference's (PyPI `telepact-cli`) and ours, on the same pairs of schemas, and reports
where their verdicts differ. Each pair is the conformance `example` schema (or an edit
of it) and an edit of that: a field removed, added, retyped or made optional or required,
a union tag added or removed, a definition removed or a function added.

Usage: compare.py REFERENCE_TELEPACT OUR_TELEPACT COUNT SEED OUT.jsonl

A verdict is the exit status and the set of reported lines. Before comparing, each side
drops what only it reports by design (README, "Command line"): ours checks headers and
reports a change inside an `errors.*` set once, in the set, where the reference reports
it under every function's result. Exits 1 when a difference remains unexplained.
"""

import copy
import json
import os
import random
import subprocess
import sys
import tempfile

CONFORMANCE = os.environ.get('TELEPACT_CONFORMANCE_DIR', '')
TYPES = ['boolean', 'integer', 'number', 'string', 'any', 'bytes', 'struct.ExStruct',
         'union.ExUnion', 'fn.example', '_ext.Select_']


class Editor:
    def __init__(self, seed):
        self.random = random.Random(seed)

    def type(self):
        name = self.random.choice(TYPES) + ('?' if self.random.random() < 0.3 else '')
        roll = self.random.random()
        return [name] if roll < 0.15 else {'string': name} if roll < 0.25 else name

    def edit(self, schema):
        """`schema` with one random edit."""
        schema = copy.deepcopy(schema)
        fields, tags = field_maps(schema), tag_lists(schema)
        roll = self.random.random()
        if roll < 0.7 and fields:
            self.edit_fields(self.random.choice(fields), roll)
        elif roll < 0.8 and tags:
            chosen = self.random.choice(tags)
            if len(chosen) > 1 and self.random.random() < 0.5:
                del chosen[self.random.randrange(len(chosen))]
            else:
                chosen.append({f'T{self.random.randint(0, 99)}': {'x': self.type()}})
        elif roll < 0.9:
            definitions = [i for i, entry in enumerate(schema)
                           if any(k.startswith(('fn.', 'struct.', 'union.')) for k in entry)]
            if definitions:
                del schema[self.random.choice(definitions)]
        else:
            schema.append({f'fn.new{self.random.randint(0, 99)}': {'a': self.type()},
                           '->': [{'Ok_': {}}]})
        return schema

    def edit_fields(self, fields, roll):
        keys = [k for k in fields if k != '///']
        if roll < 0.2 and keys:
            del fields[self.random.choice(keys)]
        elif roll < 0.35:
            name = f'f{self.random.randint(0, 99)}' + ('!' if self.random.random() < 0.5 else '')
            if name.rstrip('!') not in fields and name.rstrip('!') + '!' not in fields:
                fields[name] = self.type()
        elif roll < 0.5 and keys:
            key = self.random.choice(keys)
            if not key.startswith('@'):
                fields[key[:-1] if key.endswith('!') else key + '!'] = fields.pop(key)
        elif keys:
            fields[self.random.choice(keys)] = self.type()


def field_maps(schema):
    """Every map of fields: struct bodies, arguments, headers, tag payloads."""
    found = []
    for entry in schema:
        for key, value in entry.items():
            if key.startswith(('struct.', 'fn.', 'headers.')) and isinstance(value, dict):
                found.append(value)
            elif key == '->' and isinstance(value, dict):
                found.append(value)
            elif (key == '->' or key.startswith(('union.', 'errors.'))) and isinstance(value, list):
                found.extend(v for tag in value for k, v in tag.items()
                             if k != '///' and isinstance(v, dict))
    return found


def tag_lists(schema):
    return [value for entry in schema for key, value in entry.items()
            if (key == '->' or key.startswith(('union.', 'errors.'))) and isinstance(value, list)]


def error_tags(schema):
    return {tag for entry in schema for key, value in entry.items()
            if key.startswith('errors.') and isinstance(value, list)
            for item in value for tag in item if tag != '///'}


def verdict(tool, old_dir, new_dir):
    run = subprocess.run([tool, 'compare', '--old-schema-dir', old_dir, '--new-schema-dir', new_dir],
                         capture_output=True, text=True, timeout=120)
    lines = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith('- ')]
    return run.returncode, lines, run.stderr


def category(reference, ours, tags_of_errors):
    """Why the verdicts may differ; `tags_of_errors` are the tags of the `errors.*` sets."""
    if ours[0] == 2 and 'TelepactSchemaParseError' in reference[2]:
        # An edit made a schema invalid: both refuse it, each in its own words (the
        # reference with a traceback and status 1, ours with one message and status 2).
        return 'both refuse an invalid schema'
    if 'Traceback' in reference[2]:
        return 'the reference fails (e.g. recursion on circular function links)'
    if reference[0] not in (0, 1) or ours[0] not in (0, 1):
        return None
    ref_lines = {line for line in reference[1]
                 if not any(f".->.{tag}'" in line for tag in tags_of_errors)}
    our_lines = {line for line in ours[1] if "'errors." not in line and 'Header ' not in line}
    if ref_lines == our_lines:
        return 'errors and headers, as documented'
    return None


def main():
    reference_tool, our_tool, count, seed, out = sys.argv[1:6]
    editor = Editor(int(seed))
    with open(os.path.join(CONFORMANCE, 'schemas/example/example.telepact.json')) as handle:
        base = json.load(handle)
    tally, checked = {}, 0
    with open(out, 'w') as report, tempfile.TemporaryDirectory() as work:
        for _ in range(int(count)):
            old = editor.edit(base) if editor.random.random() < 0.3 else base
            new = old
            for _ in range(editor.random.choice([1, 1, 2, 3])):
                new = editor.edit(new)
            dirs = {}
            for name, schema in (('old', old), ('new', new)):
                dirs[name] = os.path.join(work, name)
                os.makedirs(dirs[name], exist_ok=True)
                with open(os.path.join(dirs[name], 'api.telepact.json'), 'w') as handle:
                    json.dump(schema, handle, indent=1)
            reference = verdict(reference_tool, dirs['old'], dirs['new'])
            ours = verdict(our_tool, dirs['old'], dirs['new'])
            checked += 1
            if reference[0] == ours[0] and set(reference[1]) == set(ours[1]):
                continue
            why = category(reference, ours, error_tags(old) | error_tags(new)) or 'unexplained'
            tally[why] = tally.get(why, 0) + 1
            report.write(json.dumps({'category': why, 'reference': reference[:2] + (reference[2][-400:],),
                                     'ours': ours[:2] + (ours[2][-400:],), 'old': old, 'new': new}) + '\n')
    print(f'compare: {checked} schema pairs, {sum(tally.values())} differences', end='')
    print(''.join(f'; {n} {why}' for why, n in sorted(tally.items())))
    sys.exit(1 if 'unexplained' in tally else 0)


if __name__ == '__main__':
    main()
