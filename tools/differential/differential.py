"""Sends the same requests to two servers, the reference library's and ours, and
reports where their answers differ. The requests are the conformance vectors' own,
mutated at random (a value swapped for one of another type, a key dropped or added, a
value wrapped or moved), so they reach the corners between the vectors.

Usage: differential.py MODE REFERENCE_PORT OUR_PORT COUNT SEED OUT.jsonl
  MODE server: COUNT mutated requests from server.json (the test server, schemas/example)
  MODE auth:   COUNT mutated requests from auth.json (the test server, schemas/auth),
               half of them asking for binary answers
  MODE binary: as `server`, every request asking for binary answers (`@bin_`), about half
               of them sent as MessagePack and a third packed (`@pac_`)
  MODE schema: COUNT schemas loaded through `fn.validateSchema` (schemas/parse, started
               with --validate-schemas): parse.json's schemas and the example schema,
               edited at random; the failures (reason, path, row and column) compared
  MODE mock:   COUNT sessions of 3 to 15 requests from mock.json, a third of them
               mutated (the mock server, schemas/example; stubs and calls cleared
               before each session); half the sessions ask for binary answers
  MODE demo:   COUNT sessions of 4 to 16 calls to the two CLIs' `demo-server`, a third
               of them mutated, half the sessions binary (see demo.py)

Answers are compared as the conformance README says: JSON equality (1 equals 1.0), the
cases of a validation error as a multiset, `ErrorUnknown_` by its tag alone and
`fn.api_` without docstrings. Each difference is put in a known category or counted as
unexplained; every difference is written to OUT.jsonl. Exits 1 when any is unexplained.
"""

import base64
import copy
import http.client
import json
import os
import random
import re
import sys

import msgpack
from telepact.internal.binary.UnpackBody import unpack_body

import demo
from values import leaves

CONFORMANCE = os.environ.get('TELEPACT_CONFORMANCE_DIR', '')

# Values a mutation puts in place of another: every JSON type, the edges of the
# 64-bit range, and strings that are and are not base64.
VALUES = [None, True, False, 0, -1, 1, 1.5, -0.0, 2**63, -2**63 - 1, 2**64, 1e308,
          '', 's', 'AAAA', '@', [], [None], [1, 'a'], {}, {'a': 1}, {'Ok_': {}},
          {'!': None}]
KEYS = ['extra', 'x!', 'Ok_', '@x', 'fn.example']


def post(port, body):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    connection.request('POST', '/api', body, {'Content-Type': 'application/json'})
    data = connection.getresponse().read()
    connection.close()
    return data


def from_json(data):
    try:
        return json.loads(data)
    except ValueError:
        return {'not JSON': data[:200].decode('utf-8', 'replace')}


class JsonCodec:
    """Requests and answers as JSON text."""

    def encode(self, request):
        return json.dumps(request).encode()

    def decode(self, data):
        return from_json(data)


class BinaryCodec:
    """Requests that ask for binary answers (`@bin_` with the servers' checksum), half
    of them sent as MessagePack and some packed (`@pac_`); answers read back with the
    encoding's field names, so they compare as JSON answers do. With `unpack`, packed
    answers are read back into maps (by the reference library's unpacker) before
    that; without, packed rows are compared as they are."""

    def __init__(self, encoding, random_source, unpack=False):
        self.checksum = encoding['@bin_']
        self.ids = encoding['@enc_']
        self.names = {number: name for name, number in self.ids.items()}
        self.random = random_source
        self.unpack = unpack

    def encode(self, request):
        if not isinstance(request[0], dict):
            return json.dumps(request).encode()  # no headers to ask for binary in
        headers = dict(request[0], **{'@bin_': self.checksum})
        if self.random.random() < 0.3:
            headers['@pac_'] = True
        if self.random.random() < 0.5:
            try:
                return msgpack.packb([headers, self.with_ids(request[1])])
            except (OverflowError, TypeError):
                pass  # an integer MessagePack cannot hold: sent as JSON instead
        return json.dumps([headers, request[1]]).encode()

    def with_ids(self, value):
        if isinstance(value, dict):
            return {self.ids.get(k, k): self.with_ids(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.with_ids(v) for v in value]
        return value

    def decode(self, data):
        if data[:1] == b'[':
            return from_json(data)
        try:
            answer = msgpack.unpackb(data, raw=False, strict_map_key=False)
            if self.unpack and isinstance(answer, list) and len(answer) == 2 \
                    and isinstance(answer[1], dict):
                answer[1] = unpack_body(answer[1])
            return self.with_names(answer)
        except ValueError:
            return {'not MessagePack': base64.b64encode(data[:200]).decode()}

    def with_names(self, value):
        if isinstance(value, dict):
            return {self.names.get(k, k) if isinstance(k, int) else k: self.with_names(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.with_names(v) for v in value]
        if isinstance(value, bytes):
            return {'$bytes': base64.b64encode(value).decode()}
        if isinstance(value, msgpack.ExtType):
            return {'$ext': value.code, 'data': base64.b64encode(value.data).decode()}
        return value


def binary_encoding(ports):
    """The servers' binary encoding, asked for as a client would; None when they differ."""
    ask = json.dumps([{'@bin_': []}, {'fn.ping_': {}}]).encode()
    seen = []
    for port in ports:
        headers = msgpack.unpackb(post(port, ask), raw=False, strict_map_key=False)[0]
        seen.append({'@bin_': headers.get('@bin_'), '@enc_': headers.get('@enc_')})
    return seen[0] if seen[0] == seen[1] else None


def same(a, b):
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        if all(isinstance(x, dict) for x in a + b):
            rest = list(b)
            for x in a:
                match = next((i for i, y in enumerate(rest) if same(x, y)), None)
                if match is None:
                    return False
                del rest[match]
            return True
        return all(same(x, y) for x, y in zip(a, b))
    return a == b


def without(value, dropped):
    """`value` with every object entry `dropped(object, key)` names left out, at any depth."""
    if isinstance(value, dict):
        return {k: without(v, dropped) for k, v in value.items() if not dropped(value, k)}
    if isinstance(value, list):
        return [without(v, dropped) for v in value]
    return value


def without_docs(value):
    return without(value, lambda _, key: key == '///')


def without_locations(value):
    return without(value, lambda _, key: key == 'location')


def without_columns(value):
    return without(value, lambda _, key: key == 'col')


def without_standard_positions(value):
    """`value` without the row and column of places in a standard document."""
    def standard_location(place, key):
        document = str(place.get('document', ''))
        return key == 'location' and document.endswith('_') and document != 'auto_'
    return without(value, standard_location)


def comparable(answer):
    if isinstance(answer, list) and len(answer) == 2 and isinstance(answer[1], dict) \
            and 'ErrorUnknown_' in answer[1]:
        answer = [answer[0], {'ErrorUnknown_': {}}]
    return without_docs(answer)


class Mutator:
    def __init__(self, seed):
        self.random = random.Random(seed)

    def value(self):
        return copy.deepcopy(self.random.choice(VALUES))

    def mutate(self, value):
        """`value` with one random change somewhere inside it."""
        paths = list(self.paths(value))
        path = self.random.choice(paths)
        if not path:
            return self.value() if self.random.random() < 0.2 else value
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        roll = self.random.random()
        if roll < 0.5:
            parent[key] = self.value()
        elif roll < 0.65 and isinstance(parent, dict):
            del parent[key]
        elif roll < 0.75 and isinstance(parent, dict):
            parent[self.random.choice(KEYS + [key + '!', key.rstrip('!')])] = self.value()
        elif roll < 0.85 and isinstance(parent, list):
            parent.append(self.random.choice([self.value(), copy.deepcopy(parent[key])]))
        elif roll < 0.95:
            parent[key] = [parent[key]] if self.random.random() < 0.5 else {'x': parent[key]}
        else:
            elsewhere = self.random.choice(paths)
            moved = value
            for step in elsewhere:
                moved = moved[step]
            parent[key] = copy.deepcopy(moved) if len(json.dumps(moved)) < 2000 else None
        return value

    def paths(self, value, path=()):
        yield path
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from self.paths(inner, path + (key,))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                yield from self.paths(inner, path + (index,))

    def request(self, request):
        request = copy.deepcopy(request)
        for _ in range(self.random.choice([1, 1, 1, 2, 3])):
            part = 1 if self.random.random() < 0.6 else 0
            request[part] = self.mutate(request[part])
        return request


def numbers(value):
    return (v for v in leaves(value) if isinstance(v, (int, float)) and not isinstance(v, bool))


def strings(value):
    return (v for v in leaves(value) if isinstance(v, str))


STRICT_BASE64 = re.compile(r'^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')


def category(requests, reference, ours):
    """Why the two answers to the last of `requests` may differ, or None when no known
    reason applies. (The requests before it were answered alike.)"""
    text = json.dumps([reference, ours])
    last = requests[-1]
    if 'Base64String' in text and any(not STRICT_BASE64.match(t) for t in strings(last)):
        # Python's base64 decoder skips characters outside the alphabet ("@" decodes
        # to nothing); ours takes only RFC 4648 text, as Java's and Go's do.
        return 'base64 the reference reads leniently'
    big_integer = any(abs(n) >= 2**63 and float(n).is_integer() for n in numbers(last))
    if big_integer and (schema_failures(reference) is None
                        or same(without_locations(reference), without_locations(ours))):
        # README "Known limits": integer literals past 64 bits read as floats here (in a
        # schema's text, too: the columns after one move), so a whole float past 64 bits
        # (`1e308`) is taken for one.
        return 'integers past 64 bits'
    if 'ErrorUnknown_' in json.dumps(reference) and 'ErrorUnknown_' not in json.dumps(ours):
        return 'the reference fails on input we refuse or answer'
    if all(isinstance(a, list) and len(a) == 2 and isinstance(a[1], dict) and 'Ok_' in a[1]
           for a in (reference, ours)) and any('fn.createStub_' in json.dumps(r) for r in requests):
        # Results a stub leaves incomplete are filled from the random sequence, which
        # the newest generator (ours, the vectors') consumes in another order; a null
        # the stub gives is kept here, where the reference may draw a value for it.
        return 'generated values'
    if same(*(without_standard_positions(a) for a in (reference, ours))):
        # Failures located in the standard definitions (`internal_`, ...), whose text
        # is each implementation's own, as their docstrings are.
        return 'positions in the standard definitions'
    if reached_through_a_link(reference, ours, columns=not big_integer):
        # The reference reports an error inside a linked function's arguments under the
        # path it followed to get there (`[11, "->", 0, "Ok_", "follow", "fn.x", ..]`,
        # or through a struct field of type `fn.x`), which no document holds, so its
        # location falls back to row 1, column 1; ours names the definition's own path
        # and position (the other failures' columns moved by an integer past 64 bits,
        # above, where the schema holds one).
        return 'the reference locates an error by the function link it came through'
    if duplicate_only_here(reference, ours):
        # The reference looks for `a` beside `a!` only among the fields whose types it
        # read without error; this loader reports the pair whatever their types.
        return 'a duplicate field the reference passes over'
    if first_document_only_there(reference, ours):
        # The reference stops at the first document (in the order it was given) that is
        # not a list; this loader reports every such document.
        return 'the reference stops at the first document that is not a list'
    if malformed_body_as_json(reference, ours):
        # `@unsafe_` lets the test server answer a body of more than one entry, which is
        # no Telepact message (no one result tag): this server sends it as JSON, where
        # the reference encodes it in binary all the same.
        return 'a malformed unsafe answer sent as JSON'
    if own_function_refused(ours):
        # README "The mock server": a stub or verification of one of the protocol's own
        # functions (`fn.ping_`, `fn.verify_`, ...), which the mock never records or
        # answers through stubs, is refused as `FunctionUnknown`; the reference takes it
        # and it can never apply.
        return 'a stub or verification of a protocol function'
    if negative_count_refused(last, ours):
        # README "The mock server": a negative `count!` of a stub or of calls to verify,
        # which the reference reads as no limit (or as a count any call meets), is
        # refused as out of range.
        return 'a negative count refused'
    if '@select_' in json.dumps(last[0]) and 'fn.deepExample' in json.dumps(last[1]):
        # Conformance README: the PyPI library misses two `@select_` cases inside
        # function links, which newer versions changed.
        return '@select_ inside function links'
    return None


def negative_count_refused(request, ours):
    """Our answer refuses the request's `count!` as out of range, and that count (of a
    stub, or the times of a verification) is below zero."""
    cases = body_refusals(ours)
    body = request[1] if isinstance(request, list) and len(request) == 2 else None
    if not cases or not isinstance(body, dict):
        return False

    def negative_at(path):
        value = body
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0
    return all(
        'NumberOutOfRange' in case['reason']
        and case['path'][:2] in (['fn.createStub_', 'count!'], ['fn.verify_', 'count!'])
        and negative_at(case['path'])
        for case in cases)


def body_refusals(answer):
    """The cases of an `ErrorInvalidRequestBody_` answer (none for any other)."""
    if not (isinstance(answer, list) and len(answer) == 2 and isinstance(answer[1], dict)):
        return []
    return answer[1].get('ErrorInvalidRequestBody_', {}).get('cases', [])


def own_function_refused(ours):
    """Our answer refuses a stub's or a verification's function as unknown, and that
    function is one of the protocol's own (its name ends in `_`)."""
    cases = body_refusals(ours)
    return bool(cases) and all(
        'FunctionUnknown' in case['reason'] and len(case['path']) == 3
        and case['path'][0] in ('fn.createStub_', 'fn.verify_')
        and str(case['path'][2]).endswith('_')
        for case in cases)


def malformed_body_as_json(reference, ours):
    """Both answers hold the same body of more than one entry, and differ only by the
    binary encoding's headers the reference added."""
    if not all(isinstance(a, list) and len(a) == 2 and isinstance(a[0], dict)
               and isinstance(a[1], dict) for a in (reference, ours)):
        return False
    binary_headers = ('@bin_', '@enc_', '@pac_')
    theirs = {k: v for k, v in reference[0].items() if k not in binary_headers}
    return len(ours[1]) > 1 and same(reference[1], ours[1]) and same(theirs, ours[0])


def duplicate_only_here(reference, ours):
    """Our schema failures are the reference's plus `DuplicateField` ones."""
    theirs, mine = schema_failures(reference), schema_failures(ours)
    if theirs is None or mine is None:
        return False
    rest = [c for c in mine if 'DuplicateField' not in c['reason']]
    return len(rest) < len(mine) and same(without_locations(theirs), without_locations(rest))


def first_document_only_there(reference, ours):
    """The reference reports one document that is not a list, and ours that one and
    others like it, nothing else."""
    theirs, mine = schema_failures(reference), schema_failures(ours)
    if theirs is None or mine is None or len(theirs) != 1:
        return False
    not_a_list = [c for c in mine if c['path'] == []
                  and c['reason'].get('TypeUnexpected', {}).get('expected') == {'Array': {}}]
    return len(not_a_list) == len(mine) > 1 and any(same(theirs[0], c) for c in mine)


def schema_failures(answer):
    try:
        return answer[1]['ErrorValidationFailure']['cases']
    except (IndexError, KeyError, TypeError):
        return None


def reached_through_a_link(reference, ours, columns=True):
    """Both refuse a schema for the same reasons, and each failure only the reference
    reports sits at row 1, column 1 on a longer path that ends as one of ours does
    after its document index: the same failure, reached through a function link. The
    reference may list it in another order (where it met the link). Without `columns`,
    the other failures' columns may differ (moved by an integer past 64 bits)."""
    theirs, mine = schema_failures(reference), schema_failures(ours)
    if theirs is None or mine is None or len(theirs) != len(mine):
        return False
    reasons = [sorted(json.dumps(c['reason'], sort_keys=True) for c in cases)
               for cases in (theirs, mine)]
    if reasons[0] != reasons[1]:
        return False

    def alike(c, m):
        return same(c, m) if columns else same(without_columns(c), without_columns(m))
    only_theirs = [c for c in theirs if not any(alike(c, m) for m in mine)]
    only_mine = [m for m in mine if not any(alike(c, m) for c in theirs)]
    for c in only_theirs:
        match = next((m for m in only_mine if linked_copy(c, m)), None)
        if match is None:
            return False
        only_mine.remove(match)
    return True


def linked_copy(theirs, mine):
    """`theirs` is `mine` reported under the path of a link to its definition."""
    tail = mine['path'][1:]
    return theirs['location'] == {'row': 1, 'col': 1} \
        and same(theirs['reason'], mine['reason']) \
        and len(theirs['path']) > len(mine['path']) \
        and same(theirs['path'][len(theirs['path']) - len(tail):], tail)


def vector_requests(file, usable):
    with open(os.path.join(CONFORMANCE, file)) as handle:
        cases = json.load(handle)
    return [c['request'] for c in cases if isinstance(c.get('request'), list) and usable(c['request'])]


def tests_the_fixture(request):
    """Requests that exercise the fixture's alternate server or hook assertions."""
    headers = request[0] if isinstance(request[0], dict) else {}
    return any(k in headers for k in
               ('@toggleAlternateServer_', '@assertOnErrorNested_', '@assertOnErrorStandalone_'))


def single_requests(file, count, mutator):
    """Sessions of one mutated request each."""
    pool = vector_requests(file, lambda r: not tests_the_fixture(r))
    for _ in range(count):
        request = mutator.request(mutator.random.choice(pool))
        if isinstance(request[0], dict) and not tests_the_fixture(request):
            yield [request]


def schema_requests(count, mutator):
    """Sessions of one `fn.validateSchema` call each: a schema of parse.json, or the
    example schema, with one to three random edits."""
    schemas = [r[1]['fn.validateSchema']['input']['PseudoJson']
               for r in vector_requests('parse.json', lambda r: 'PseudoJson' in json.dumps(r))]
    with open(os.path.join(CONFORMANCE, 'schemas/example/example.telepact.json')) as handle:
        schemas.append({'schema': json.load(handle)})
    for _ in range(count):
        given = copy.deepcopy(mutator.random.choice(schemas))
        for _ in range(mutator.random.choice([1, 1, 2, 3])):
            part = mutator.random.choice([k for k in ('schema', 'extend!') if k in given])
            given[part] = mutator.mutate(given[part])
        yield [[{}, {'fn.validateSchema': {'input': {'PseudoJson': given}}}]]


def mock_sessions(count, mutator):
    """Sessions of 3 to 15 requests to the mock, about a third of them mutated."""
    def usable(request):
        text = json.dumps(request)
        return '@gen_' not in text and 'fn.setRandomSeed_' not in text
    pool = vector_requests('mock.json', usable)
    for _ in range(count):
        session = []
        for _ in range(mutator.random.randint(3, 15)):
            request = mutator.random.choice(pool)
            if mutator.random.random() < 0.35:
                request = mutator.request(request)
            if isinstance(request[0], dict) and '@gen_' not in request[0]:
                session.append(request)
        yield session


CLEAR = [json.dumps([{}, {'fn.clearStubs_': {}}]).encode(),
         json.dumps([{}, {'fn.clearCalls_': {}}]).encode()]


# Modes whose sessions are sent as JSON or, half of them, asking for binary answers.
MIXED = ('auth', 'mock', 'demo')


def sender(mode, ports, codec, binary, random_source):
    """A function that sends one request to both servers and returns the body sent
    and their answers, made comparable: through `codec`, or for a session of a mixed
    mode, through `binary` half the time."""
    if mode in MIXED and random_source.random() < 0.5:
        codec = binary
    if mode == 'demo':
        exchange = demo.Exchange(ports, post, codec, random_source)

        def send(request):
            body, answers = exchange.send(request)
            return body, [comparable(a) for a in answers]
        return send

    def send(request):
        body = codec.encode(request)
        return body, [comparable(codec.decode(post(port, body))) for port in ports]
    return send


def main():
    mode, reference, ours, count, seed, out = sys.argv[1:7]
    ports, count, mutator = (int(reference), int(ours)), int(count), Mutator(int(seed))
    codec = JsonCodec()
    if mode == 'mock':
        sessions = mock_sessions(count, mutator)
    elif mode == 'schema':
        sessions = schema_requests(count, mutator)
    elif mode == 'demo':
        sessions = demo.sessions(count, mutator)
    else:
        file = 'auth.json' if mode == 'auth' else 'server.json'
        sessions = single_requests(file, count, mutator)
    binary = None
    if mode == 'binary' or mode in MIXED:
        encoding = binary_encoding(ports)
        if encoding is None:
            print(f'{mode}: the two servers offer different encodings (checksum or field ids)')
            sys.exit(1)
        # The binary run compares packed rows as they are; the mixed ones unpack them,
        # so that what demo.py sets aside is found.
        binary = BinaryCodec(encoding, mutator.random, unpack=mode in MIXED)
        if mode == 'binary':
            codec = binary
    sent, tally = 0, {}
    with open(out, 'w') as report:
        for session in sessions:
            if mode == 'mock':
                for body in CLEAR:
                    for port in ports:
                        post(port, body)
            send = sender(mode, ports, codec, binary, mutator.random)
            for index, request in enumerate(session):
                body, answers = send(request)
                sent += 1
                if same(*answers):
                    continue
                requests = session[:index + 1]
                why = (mode == 'demo' and demo.category(requests, *answers)) \
                    or category(requests, *answers) or 'unexplained'
                tally[why] = tally.get(why, 0) + 1
                report.write(json.dumps({'category': why, 'requests': requests,
                                         'sent': base64.b64encode(body).decode(),
                                         'reference': answers[0], 'ours': answers[1]}) + '\n')
                # The rest of a session says nothing more once the states may differ.
                if why not in demo.STATES_ALIKE:
                    break
    print(f'{mode}: {sent} requests, {sum(tally.values())} differences', end='')
    print(''.join(f'; {n} {why}' for why, n in sorted(tally.items())))
    sys.exit(1 if 'unexplained' in tally else 0)


if __name__ == '__main__':
    main()
