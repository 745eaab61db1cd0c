"""The conformance README's test server (or its mock server) on the reference Python
library, over HTTP: `POST /api` on 127.0.0.1, `READY <port>` printed once listening.

Usage: reference_server.py SCHEMA_DIR [--auth | --mock | --validate-schemas]

The behaviour follows the conformance README, as `conformance_server` does, except the
two parts that test the fixture rather than the protocol: the alternate server and the
on-error assertions (the driver sends no request that asks for them).
"""

import asyncio
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import json

from telepact import (FunctionRouter, Message, MockServer, MockTelepactSchema, Server,
                      TelepactSchema, TelepactSchemaParseError)


def header_driven_answer(headers):
    """The test server's handler: the result the request's headers ask for."""
    if '@ok_' in headers:
        return {'Ok_': headers['@ok_']}
    if '@result' in headers:
        result = headers['@result']
        return result if isinstance(result, dict) else {'@result': result}
    if '@throw' in headers:
        raise RuntimeError('handler failed as asked')
    if '@error' in headers:
        return {'ErrorExample2': {'field1': 'Boom!'}}
    if headers.get('@override') != 'new':
        return {'ErrorUnknown_': {}}
    return {'Ok_': {}}


async def handler(_name, message):
    headers = message.headers
    extra = headers.get('@responseHeader')
    response_headers = dict(extra) if isinstance(extra, dict) else {}
    if '@onResponseError_' in headers:
        response_headers['@onResponseError_'] = headers['@onResponseError_']
    return Message(response_headers, header_driven_answer(headers))


async def middleware(message, router):
    fail = message.headers.get('@throwError_') is True
    answer = await router.route(message)
    if fail:
        raise RuntimeError('middleware failed as asked')
    return answer


def on_request(message):
    if message.headers.get('@onRequestError_') is True:
        raise RuntimeError('on-request hook failed as asked')


def on_response(message):
    if message.headers.get('@onResponseError_') is True:
        raise RuntimeError('on-response hook failed as asked')


async def validate_schema(name, message):
    """`fn.validateSchema`: loads the schema in `input` and reports its failures."""
    given = message.body[name].get('input', {})
    tag, payload = next(iter(given.items()), (None, {}))
    try:
        if tag == 'PseudoJson' and 'extend!' in payload:
            TelepactSchema.from_file_json_map({'default': json.dumps(payload['schema']),
                                               'extend': json.dumps(payload['extend!'])})
        elif tag == 'PseudoJson':
            TelepactSchema.from_json(json.dumps(payload['schema']))
        elif tag == 'Json':
            TelepactSchema.from_json(payload['schema'])
        elif tag == 'Directory':
            TelepactSchema.from_directory(payload['schemaDirectory'])
    except TelepactSchemaParseError as error:
        return Message({}, {'ErrorValidationFailure': {
            'cases': error.schema_parse_failures_pseudo_json}})
    return Message({}, {'Ok_': {}})


def token_auth(headers):
    auth = headers.get('@auth_')
    token = auth.get('Token', {}).get('token') if isinstance(auth, dict) else None
    if token == 'ok':
        return {'@ok_': {}}
    if token == 'unauthorized':
        return {'@result': {'ErrorUnauthorized_': {'message!': 'a'}}}
    raise RuntimeError('invalid token')


def test_server(schema_dir, auth, validate_schemas):
    schema = TelepactSchema.from_directory(schema_dir)
    routes = {name: handler for name in schema.parsed
              if name.startswith('fn.') and not name.endswith('_')}
    if validate_schemas:
        routes['fn.validateSchema'] = validate_schema
    options = Server.Options()
    options.auth_required = auth
    options.middleware = middleware
    options.on_request = on_request
    options.on_response = on_response
    if auth:
        options.on_auth = token_auth
    server = Server(schema, FunctionRouter(routes), options)

    def set_override(headers):
        headers['@override'] = 'new'

    async def process(body):
        return (await server.process(body, set_override)).bytes
    return process


def mock_server(schema_dir):
    options = MockServer.Options()
    options.enable_message_response_generation = False
    options.generated_collection_length_max = 2
    mock = MockServer(MockTelepactSchema.from_directory(schema_dir), options)

    async def process(body):
        answer = await mock.process(body)
        return getattr(answer, 'bytes', answer)
    return process


def main():
    schema_dir = sys.argv[1]
    if '--mock' in sys.argv:
        process = mock_server(schema_dir)
    else:
        process = test_server(schema_dir, '--auth' in sys.argv, '--validate-schemas' in sys.argv)
    loop = asyncio.new_event_loop()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
            with lock:
                answer = loop.run_until_complete(process(body))
            self.send_response(200)
            self.send_header('Content-Length', str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args):
            pass

    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    print('READY', httpd.server_address[1], flush=True)
    httpd.serve_forever()


if __name__ == '__main__':
    main()
