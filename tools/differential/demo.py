"""The `demo` mode of differential.py: sessions of calls to two calculators, the
reference CLI's `telepact demo-server` and ours, sent alike and compared.

Half the sessions are sent as JSON and half ask for binary answers, as the `binary`
mode sends its requests. Each session has its own usernames, so sessions do not share
state; it starts by
emptying the variables and paper tape of callers without `@auth_` (an import of an
empty blob), then makes 4 to 16 calls, about a third of them mutated. A call can carry
placeholders that are filled in for each server as it is sent: `{"$token": user}` (the
token that server's `fn.login` gave `user`) and `{"$blob": "own"}` or `{"$blob":
"other"}` (the last blob `fn.export` gave, by the same server or by the other one, so
each imports the other's). Tokens and blobs in answers are compared by what they mean:
a token as `<token>`, a blob as the MessagePack it holds.

Three differences are taken out before comparing: a failed evaluation's `result` (0
there, null here) and `ErrorUnauthorized_`'s message (each demo's own words), as the
README lists, and every `timestamp` (each server's own clock); `category` names the
other deliberate ones. The reference answers 1 % of calls
with `ErrorUnavailable` (ours is started with `--unavailable-rate 0`); such a call is
sent again, as it changed nothing.
"""

import base64
import json
import math
import random

import msgpack

from values import leaves

NAMES = ['a', 'b', 'x', 'result', '', 'ü']
NUMBERS = [0, 1, -1, 2, 3, 0.5, -2.5, 1e15, -0.0, 1e-300, 1e308]
LIMITS = [0, 1, 3, -1, 2**40]
BOGUS_TOKEN = 'no-such-token'
# The name the reference keeps the variables of callers without `@auth_` under.
SHARED_NAME = '__unauthenticated__'
EMPTY_BLOB = base64.b64encode(msgpack.packb({'variables': {}, 'evaluations': []})).decode()
RETRIES = 20


def sessions(count, mutator):
    """`count` sessions of calls, each a list of requests with placeholders."""
    # Usernames are the run's own too, as a server left running keeps its sessions;
    # drawn apart from `mutator`, so that a seed still gives the same calls.
    run = random.SystemRandom().getrandbits(32)
    for number in range(count):
        yield list(Session(f'{run:08x}.{number}', mutator).calls())


class Session:
    def __init__(self, prefix, mutator):
        self.mutator = mutator
        self.random = mutator.random
        self.users = [f'{prefix}-{name}' for name in ('ann', 'bob')]
        if self.random.random() < 0.05:
            self.users.append(SHARED_NAME)

    def calls(self):
        yield [{}, {'fn.import': {'blob': EMPTY_BLOB}}]
        yield self.login(self.users[0])
        for _ in range(self.random.randint(3, 15)):
            request = self.call()
            if self.random.random() < 0.35:
                request = self.mutator.request(request)
            yield request

    def user(self):
        return self.random.choice(self.users)

    def login(self, user):
        return [{}, {'fn.login': {'username': user}}]

    def auth(self):
        roll = self.random.random()
        if roll < 0.3:
            return {}
        if roll < 0.6:
            return {'@auth_': {'Ephemeral': {'username': self.user()}}}
        token = {'$token': self.user()} if roll < 0.95 else BOGUS_TOKEN
        return {'@auth_': {'Session': {'token': token}}}

    def call(self):
        """A call of a random function, with random arguments and `@auth_`;
        `fn.evaluate`, which has the most to compare, twice as often as the others."""
        choice = self.random
        function, argument = choice.choice([
            ('fn.add', lambda: {'x': self.number(), 'y': self.number()}),
            ('fn.saveVariable', lambda: {'name': self.name(), 'value': self.number()}),
            ('fn.saveVariables', lambda: {'variables': {
                self.name(): self.number() for _ in range(choice.randint(0, 3))}}),
            ('fn.getVariable', lambda: {'name': self.name()}),
            ('fn.getVariables', dict),
            ('fn.deleteVariable', lambda: {'name': self.name()}),
            ('fn.deleteVariables', lambda: {'names': [
                self.name() for _ in range(choice.randint(0, 3))]}),
            ('fn.evaluate', lambda: {'expression': self.expression(choice.randint(0, 3))}),
            ('fn.evaluate', lambda: {'expression': self.expression(choice.randint(0, 3))}),
            ('fn.getPaperTape', self.tape_limit),
            ('fn.export', dict),
            ('fn.import', self.blob),
            ('fn.login', lambda: {'username': self.user()}),
            ('fn.logout', lambda: {'username': self.user()}),
            ('fn.ping_', dict),
        ])
        return [self.auth(), {function: argument()}]

    def name(self):
        return self.random.choice(NAMES)

    def number(self):
        return self.random.choice(NUMBERS)

    def expression(self, depth):
        if depth == 0 or self.random.random() < 0.25:
            if self.random.random() < 0.5:
                return {'Constant': {'value': self.number()}}
            return {'Variable': {'name': self.name()}}
        operation = self.random.choice(['Add', 'Sub', 'Mul', 'Div'])
        return {operation: {'left': self.expression(depth - 1),
                            'right': self.expression(depth - 1)}}

    def tape_limit(self):
        return {'limit!': self.random.choice(LIMITS)} if self.random.random() < 0.6 else {}

    def blob(self):
        roll = self.random.random()
        if roll < 0.4:
            return {'blob': {'$blob': 'own'}}
        if roll < 0.8:
            return {'blob': {'$blob': 'other'}}
        return {'blob': base64.b64encode(self.random.choice(ODD_BLOBS)).decode()}


# Blobs that are not an export: MessagePack of other shapes, and bytes that are not.
ODD_BLOBS = [
    b'',
    b'\xc1',
    msgpack.packb([]),
    msgpack.packb({'variables': {}}),
    msgpack.packb({'variables': {'a': 1}, 'evaluations': []}),
    msgpack.packb({'variables': {'a': True}, 'evaluations': []}),
    msgpack.packb({'variables': {'a': 'one'}, 'evaluations': []}),
    msgpack.packb({'variables': {1: 1}, 'evaluations': []}),
    msgpack.packb({'variables': {'a': 2.5}, 'evaluations': [1]}),
    msgpack.packb({'variables': {}, 'evaluations': [{'expression': {'Constant': {'value': 1}},
                                                     'result': 1, 'timestamp': 0,
                                                     'successful': True}]}),
    msgpack.packb({'variables': {}, 'evaluations': [{}]}),
    msgpack.packb({'variables': {}, 'evaluations': [], 'extra': 1}),
    msgpack.packb({'variables': {}, 'evaluations': []}) + b'\x00',
]


class Exchange:
    """Sends a session's calls to both servers through `codec` (JSON, or binary as
    differential.py's `BinaryCodec` sends it), filling in each server's placeholders,
    and keeps what the answers gave: tokens by user, the last export's blob."""

    def __init__(self, ports, post, codec, random_source):
        self.ports = ports
        self.post = post
        self.codec = codec
        self.random = random_source
        self.tokens = [{} for _ in ports]
        self.blobs = [EMPTY_BLOB for _ in ports]

    def send(self, request):
        """The bodies sent (one after the other) and both servers' answers, made
        comparable."""
        bodies, answers = [], []
        state = self.random.getstate()
        for side, port in enumerate(self.ports):
            # Both servers get the same choices of encoding (MessagePack or JSON,
            # packed or not), which the codec draws.
            self.random.setstate(state)
            body = self.codec.encode(self.filled(request, side))
            answer = self.answer(port, body)
            self.keep(request, answer, side)
            bodies.append(body)
            answers.append(comparable(answer))
        return b'\n'.join(bodies), answers

    def answer(self, port, body):
        for _ in range(RETRIES):
            answer = self.codec.decode(self.post(port, body))
            if not (isinstance(answer, list) and len(answer) == 2
                    and answer[1] == {'ErrorUnavailable': {}}):
                return answer
        return answer

    def filled(self, value, side):
        if isinstance(value, dict):
            if len(value) == 1 and '$token' in value:
                return self.tokens[side].get(str(value['$token']), BOGUS_TOKEN)
            if len(value) == 1 and '$blob' in value:
                return self.blobs[side if value['$blob'] == 'own' else 1 - side]
            return {k: self.filled(v, side) for k, v in value.items()}
        if isinstance(value, list):
            return [self.filled(v, side) for v in value]
        return value

    def keep(self, request, answer, side):
        ok = ok_result(answer)
        if ok is None or not isinstance(request[1], dict):
            return
        login = request[1].get('fn.login')
        if isinstance(login, dict) and isinstance(ok.get('token'), str):
            self.tokens[side][str(login.get('username'))] = ok['token']
        blob = blob_text(ok.get('blob'))
        if 'fn.export' in request[1] and blob is not None:
            self.blobs[side] = blob


def blob_text(blob):
    """A blob in an answer as base64 text: as JSON gives it, or as `BinaryCodec` reads
    MessagePack's bytes (`{"$bytes": text}`)."""
    if isinstance(blob, dict) and len(blob) == 1:
        blob = blob.get('$bytes')
    return blob if isinstance(blob, str) else None


def ok_result(answer):
    if isinstance(answer, list) and len(answer) == 2 and isinstance(answer[1], dict):
        ok = answer[1].get('Ok_')
        return ok if isinstance(ok, dict) else None
    return None


def comparable(answer):
    """`answer` with tokens, blobs, refusals' messages, timestamps and failed results
    made comparable."""
    ok = ok_result(answer)
    if ok is not None:
        if isinstance(ok.get('token'), str):
            ok['token'] = '<token>'
        if blob_text(ok.get('blob')) is not None:
            ok['blob'] = unpacked(blob_text(ok['blob']))
    if refusal(answer) == 'ErrorUnauthorized_' and isinstance(answer[1]['ErrorUnauthorized_'], dict):
        answer[1]['ErrorUnauthorized_'].pop('message!', None)
    return normalized(answer)


def unpacked(blob):
    try:
        return msgpack.unpackb(base64.b64decode(blob), raw=False, strict_map_key=False)
    except ValueError:
        return {'not a blob': blob[:200]}


def normalized(value):
    """Every `timestamp` left out, and the `result` of an unsuccessful evaluation
    made null, at any depth."""
    if isinstance(value, dict):
        kept = {k: normalized(v) for k, v in value.items() if k != 'timestamp'}
        if kept.get('successful') is False and 'result' in kept:
            kept['result'] = None
        return kept
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


# Differences after which both demos still hold the same state (each refused the call
# or only read), so their session goes on.
STATES_ALIKE = {"fn.logout's session checked before its body", 'a negative tape limit'}


def category(requests, reference, ours):
    """Why the demos' answers to the last of `requests` may differ, or None when no
    known reason applies. These are the deliberate differences the README lists."""
    last = requests[-1]
    body = json.dumps(last[1])
    if any(SHARED_NAME in json.dumps(r) for r in requests):
        return 'the name the reference keeps callers without @auth_ under'
    if names_another_sessions_user(requests):
        # A mutation gave a username of no session ('s', ''), which any session may
        # reach, after differences that stopped other sessions left it unlike.
        return "a user outside the session's own"
    if refusal(ours) == 'ErrorUnknown_' and any(
            isinstance(n, float) and not math.isfinite(n) for n in leaves(reference)):
        # Ours answers `ErrorUnknown_` for a result no JSON number can hold; the
        # reference writes `Infinity` or `NaN`, which JSON readers other than
        # Python's refuse.
        return 'a result past the largest number'
    if 'fn.logout' in body and refusal(ours) == 'ErrorUnauthenticated_' and (
            refusal(reference) == 'ErrorInvalidRequestBody_' or reference[1] == ours[1]):
        # Ours checks fn.logout's session in its auth hook, which the protocol runs
        # before it reads the body or settles the binary encoding (a hook's refusal
        # echoes no `@pac_`, in the reference library too); the reference demo checks
        # the session in the function.
        return "fn.logout's session checked before its body"
    tape = last[1].get('fn.getPaperTape') if isinstance(last[1], dict) else None
    if isinstance(tape, dict) and isinstance(tape.get('limit!'), int) and tape['limit!'] < 0:
        # Ours gives at most `limit!` lines, so none; the reference slices its list
        # with the negative number, keeping all but that many of the oldest.
        return 'a negative tape limit'
    if 'fn.import' in body and ok_result(reference) is not None \
            and refusal(ours) == 'ErrorUnknown_' and not_evaluations(last[1]):
        return 'a blob whose evaluations the reference does not check'
    return None


def names_another_sessions_user(requests):
    """The last of a session's `requests` names, as its `Ephemeral` user, one whose
    name lacks the session's prefix (which its second call, a login, shows)."""
    try:
        prefix = requests[1][1]['fn.login']['username'].rsplit('-', 1)[0] + '-'
        user = requests[-1][0]['@auth_']['Ephemeral']['username']
    except (IndexError, KeyError, TypeError, AttributeError):
        return False
    return isinstance(user, str) and not user.startswith(prefix) and user != SHARED_NAME


def refusal(answer):
    """The tag of an answer's result when it is not `Ok_`."""
    if isinstance(answer, list) and len(answer) == 2 and isinstance(answer[1], dict) \
            and len(answer[1]) == 1:
        tag = next(iter(answer[1]))
        return None if tag == 'Ok_' else tag
    return None


def not_evaluations(body):
    """The blob `body` imports holds an evaluation that is not one."""
    blob = body.get('fn.import', {}).get('blob') if isinstance(body, dict) else None
    if not isinstance(blob, str):
        return False
    namespace = unpacked(blob)
    evaluations = namespace.get('evaluations') if isinstance(namespace, dict) else None
    fields = {'expression', 'result', 'timestamp', 'successful'}
    return isinstance(evaluations, list) and any(
        not isinstance(e, dict) or set(e) != fields for e in evaluations)

