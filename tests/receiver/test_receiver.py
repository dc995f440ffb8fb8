"""Tests for receiver.py, the loopback stand-in for Logfire's /v1/traces intake.

Each test starts the real receiver as a subprocess on a free loopback port and
talks to it with the standard library's HTTP clients. Run with:
    /usr/bin/python3 -m pytest tests/receiver
Tests that need the shared strict checker go through checker_guard: a missing
checker fails them when CI is set and skips them loudly otherwise.
"""
import base64
import copy
import email.utils
import gzip
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from checker_guard import SHARED_CHECKER, require_shared_checker  # noqa: E402

PYTHON = '/usr/bin/python3'
RECEIVER = HERE / 'receiver.py'
TOKEN = 'pylf_v1_us_' + secrets.token_hex(20)
START_TIMEOUT_S = 20

RESOURCE = {
    'service.name': 'synthorg-shim',
    'service.version': '0.3.0',
    'deployment.environment.name': 'dev',
    'service.instance.id': str(uuid.uuid4()),
    'os.type': 'linux',
    'telemetry.sdk.name': 'synthorg-shim',
    'telemetry.sdk.language': 'c',
    'telemetry.sdk.version': '0.3.0',
}


# ---------------------------------------------------------------- bodies

def any_value(v):
    """Python value -> OTLP JSON AnyValue, as the Logfire SDK encodes it."""
    if isinstance(v, bool):
        return {'boolValue': v}
    if isinstance(v, int):
        return {'intValue': str(v)}  # 64-bit: a decimal string
    if isinstance(v, float):
        return {'doubleValue': v}
    return {'stringValue': v}


def kvs(d):
    return [{'key': k, 'value': any_value(v)} for k, v in d.items()]


def event_props(**extra):
    """The SPEC 3 envelope plus a few deployment.startup keys."""
    props = {
        'event_timestamp': datetime.now(timezone.utc).isoformat(timespec='seconds'),
        'deployment_id': str(uuid.uuid4()),
        'synthorg_version': '0.3.0',
        'os_platform': 'Linux',
        'environment': 'dev',
        'agent_count': 3,
        'department_count': 2,
        'template_name': 'solo-founder',
        'persistence_backend': 'sqlite',
        'docker_info_available': True,
        'uptime_hours': 0.25,
    }
    props.update(extra)
    return props


def log_span(event, props):
    """One Logfire log span, in the shape of logfire-otlp.md section 5.1."""
    now = time.time_ns()
    # Logfire's trace ids: 6 bytes of Unix milliseconds, then 10 random bytes.
    trace_id = (now // 1_000_000).to_bytes(6, 'big').hex() + secrets.token_hex(10)
    schema = {'type': 'object', 'properties': {k: {} for k in props}}
    attrs = [
        {'key': 'logfire.span_type', 'value': {'stringValue': 'log'}},
        {'key': 'logfire.level_num', 'value': {'intValue': '9'}},
        {'key': 'logfire.msg_template', 'value': {'stringValue': event}},
        {'key': 'logfire.msg', 'value': {'stringValue': event}},
        *kvs(props),
        {'key': 'logfire.json_schema',
         'value': {'stringValue': json.dumps(schema, separators=(',', ':'))}},
    ]
    return {'traceId': trace_id, 'spanId': secrets.token_hex(8), 'flags': 256,
            'name': event, 'kind': 1, 'startTimeUnixNano': str(now),
            'endTimeUnixNano': str(now), 'attributes': attrs}


def body(*events, resource=None, **extra):
    """A request with one span per event (default: one deployment.startup)."""
    events = events or ('deployment.startup',)
    return {'resourceSpans': [{
        'resource': {'attributes': kvs(RESOURCE if resource is None else resource)},
        'scopeSpans': [{'scope': {'name': 'logfire', 'version': '0.3.0'},
                        'spans': [log_span(e, event_props(**extra)) for e in events]}],
    }]}


def span0(doc):
    return doc['resourceSpans'][0]['scopeSpans'][0]['spans'][0]


def attr(doc, key):
    return next(a for a in span0(doc)['attributes'] if a['key'] == key)


def int64_as_number(doc):
    s = span0(doc)
    s['startTimeUnixNano'] = int(s['startTimeUnixNano'])
    s['endTimeUnixNano'] = int(s['endTimeUnixNano'])


def int_value_as_number(doc):
    attr(doc, 'agent_count')['value'] = {'intValue': 3}


def snake_case_key(doc):
    s = span0(doc)
    s['start_time_unix_nano'] = s.pop('startTimeUnixNano')


def base64_trace_id(doc):
    s = span0(doc)
    s['traceId'] = base64.b64encode(bytes.fromhex(s['traceId'])).decode()


def enum_name(doc):
    span0(doc)['kind'] = 'SPAN_KIND_INTERNAL'


def duplicate_attribute(doc):
    span0(doc)['attributes'].append(copy.deepcopy(attr(doc, 'agent_count')))


def no_service_name(doc):
    res = doc['resourceSpans'][0]['resource']
    res['attributes'] = [a for a in res['attributes'] if a['key'] != 'service.name']


def long_string(doc):
    attr(doc, 'template_name')['value'] = {'stringValue': 'x' * 65}


def long_resource_string(doc):
    res = doc['resourceSpans'][0]['resource']['attributes']
    next(a for a in res if a['key'] == 'service.version')['value'] = {'stringValue': '9' * 65}


def host_name(doc):
    doc['resourceSpans'][0]['resource']['attributes'].append(
        {'key': 'host.name', 'value': {'stringValue': 'a1b2c3d4e5f6'}})


def token_in_body(doc):
    attr(doc, 'template_name')['value'] = {'stringValue': TOKEN}


def forbidden_key(doc):
    span0(doc)['attributes'].insert(4, {'key': 'api_key_count', 'value': {'intValue': '1'}})


def array_value(doc):
    attr(doc, 'template_name')['value'] = {
        'arrayValue': {'values': [{'stringValue': 'a'}]}}


def unknown_event(doc):
    s = span0(doc)
    s['name'] = 'deployment.exploded'
    attr(doc, 'logfire.msg_template')['value'] = {'stringValue': s['name']}
    attr(doc, 'logfire.msg')['value'] = {'stringValue': s['name']}


def checker_crash(doc):
    doc['resourceSpans'] = [5]  # the checker raises on this instead of reporting


def no_envelope(doc):
    s = span0(doc)
    s['attributes'] = [a for a in s['attributes'] if a['key'] != 'synthorg_version']
    schema = json.loads(attr(doc, 'logfire.json_schema')['value']['stringValue'])
    del schema['properties']['synthorg_version']
    attr(doc, 'logfire.json_schema')['value'] = {'stringValue': json.dumps(schema)}


# ---------------------------------------------------------------- the receiver

def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


class Rx:
    """One receiver subprocess and a client for it."""

    def __init__(self, workdir, args=(), env=None, tls_ca=None, host='127.0.0.1'):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.tls_ca = tls_ca
        self.token_file = self.dir / 'token'
        self.token_file.write_text(TOKEN + '\n')
        self.port_file = self.dir / 'port'
        self.log_file = self.dir / 'requests.jsonl'
        self.mode_file = self.dir / 'mode'
        self.out_file = self.dir / 'stdout'
        self.err_file = self.dir / 'stderr'
        self.argv = [PYTHON, str(RECEIVER), '--host', host,
                     '--token-file', str(self.token_file), '--port', '0',
                     '--port-file', str(self.port_file), '--log', str(self.log_file),
                     '--mode-file', str(self.mode_file), *args]
        self.env = env
        self.proc = None
        self.port = None

    def start(self, expect_ready=True):
        with open(self.out_file, 'wb') as out, open(self.err_file, 'wb') as err:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=err, env=self.env)
        if not expect_ready:
            return self
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.port_file.exists():
                self.port = int(self.port_file.read_text())
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f'receiver exited {self.proc.returncode}: {self.stderr()}')
            time.sleep(0.02)
        raise AssertionError(f'receiver did not start: {self.stderr()}')

    def stderr(self):
        return self.err_file.read_text(errors='replace')

    def stdout(self):
        return self.out_file.read_text(errors='replace')

    def wait_stderr(self, text, timeout=5):
        """Wait until stderr shows text: the receiver may say it after the client saw why."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr():
            if time.monotonic() > deadline:
                raise AssertionError(f'{text!r} not in stderr: {self.stderr()}')
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop it by its PID; return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f'receiver ignored {sig!r}: {self.stderr()}') from None

    def set_mode(self, mode):
        tmp = self.dir / 'mode.tmp'
        tmp.write_text(mode + '\n')
        os.replace(tmp, self.mode_file)  # atomically, as the receiver asks

    def connection(self, timeout=5, host=None, context=None):
        host = host or self.host
        if self.tls_ca or context:
            ctx = context or ssl.create_default_context(cafile=str(self.tls_ca))
            return http.client.HTTPSConnection(host, self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(host, self.port, timeout=timeout)

    def request(self, data, token=TOKEN, ctype='application/json', path='/v1/traces',
                method='POST', headers=(), conn=None, timeout=5, **conn_kw):
        """Send one request; return (status, headers dict, body bytes)."""
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        own = conn is None
        conn = conn or self.connection(timeout=timeout, **conn_kw)
        try:
            conn.putrequest(method, path)
            if token is not None:
                conn.putheader('Authorization', token)
            if ctype is not None:
                conn.putheader('Content-Type', ctype)
            for name, value in headers:
                conn.putheader(name, value)
            if data is not None:
                conn.putheader('Content-Length', str(len(data)))
            conn.endheaders(data)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            if own:
                conn.close()

    def records(self):
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def wait_records(self, n, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recs = self.records()
            if len(recs) >= n:
                return recs
            time.sleep(0.02)
        raise AssertionError(f'expected {n} log records, have {len(self.records())}')

    def last(self):
        return self.records()[-1]

    def refused(self):
        family = socket.AF_INET6 if ':' in self.host else socket.AF_INET
        with socket.socket(family) as s:
            s.settimeout(2)
            try:
                s.connect((self.host, self.port))
            except ConnectionRefusedError:
                return True
        return False

    def wait_refused(self, want=True, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.refused() == want:
                return
            time.sleep(0.02)
        raise AssertionError(f'port {self.port} refused={not want} after {timeout} s')


@pytest.fixture(scope='session')
def checker():
    return require_shared_checker()


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp('pki')
    subprocess.run(['sh', str(HERE / 'make-pki.sh'), str(d)], check=True,
                   capture_output=True)
    return d


@pytest.fixture
def start_rx(tmp_path):
    """Factory: start_rx(*args, env=..., ...) -> a running Rx; all stopped at teardown."""
    started = []

    def start(*args, expect_ready=True, **kw):
        rx = Rx(tmp_path / f'rx{len(started)}', args, **kw)
        started.append(rx)
        return rx.start(expect_ready=expect_ready)

    yield start
    for rx in started:
        if rx.proc and rx.proc.poll() is None:
            rx.stop()


@pytest.fixture
def rx(checker, start_rx):
    return start_rx()


# ---------------------------------------------------------------- the checker gate

def test_guard_fails_in_ci_when_the_checker_is_missing(tmp_path):
    with pytest.raises(pytest.fail.Exception, match='CI is set'):
        require_shared_checker(tmp_path / 'nope.py', environ={'CI': 'true'})


def test_guard_skips_loudly_outside_ci_when_the_checker_is_missing(tmp_path):
    with pytest.raises(pytest.skip.Exception, match='STRICT OTLP CHECKER MISSING'):
        require_shared_checker(tmp_path / 'nope.py', environ={'CI': ''})


def test_guard_returns_a_present_checker(tmp_path):
    fake = tmp_path / 'check.py'
    fake.write_text('')
    assert require_shared_checker(fake, environ={'CI': '1'}) == fake


# ---------------------------------------------------------------- good bodies

def test_valid_body_is_accepted_and_logged_parsed(rx):
    doc = body()
    status, headers, data = rx.request(doc)
    assert (status, data) == (200, b'{}')
    assert headers['Content-Type'] == 'application/json'
    rec = rx.wait_records(1)[0]
    assert rec['method'] == 'POST' and rec['path'] == '/v1/traces'
    assert rec['status'] == rec['expected_status'] == 200 and rec['answered']
    assert rec['checked'] is True and rec['verdict'] == 'pass'
    assert rec['checker'][0].startswith('OK'), rec['checker']
    assert rec['receiver_checks'] == [] and rec['errors'] == []
    assert rec['auth'] == 'match' and rec['headers']['authorization'] == '[match]'
    assert rec['headers']['content-type'] == 'application/json'
    [span] = rec['spans']
    sent = span0(doc)
    assert span['name'] == 'deployment.startup'
    assert span['trace_id'] == sent['traceId'] and span['kind'] == 1
    assert span['start_time_unix_nano'] == int(sent['startTimeUnixNano'])
    assert span['attributes']['agent_count'] == 3          # intValue -> int
    assert span['attributes']['docker_info_available'] is True
    assert span['attributes']['uptime_hours'] == 0.25
    assert span['attributes']['logfire.level_num'] == 9
    assert span['attributes']['template_name'] == 'solo-founder'
    assert span['resource'] == RESOURCE
    assert span['scope'] == {'name': 'logfire', 'version': '0.3.0'}


def test_all_four_events_in_one_request(rx):
    events = ('deployment.startup', 'deployment.heartbeat',
              'deployment.session_summary', 'deployment.shutdown')
    assert rx.request(body(*events))[0] == 200
    assert [s['name'] for s in rx.wait_records(1)[0]['spans']] == list(events)


def test_string_of_64_characters_passes_and_logfire_attributes_are_exempt(rx):
    doc = body(template_name='y' * 64)
    assert len(attr(doc, 'logfire.json_schema')['value']['stringValue']) > 64
    assert rx.request(doc)[0] == 200


def test_gzip_body_is_accepted(rx):
    data = gzip.compress(json.dumps(body()).encode())
    status, _, _ = rx.request(data, headers=[('Content-Encoding', 'gzip')])
    assert status == 200
    rec = rx.wait_records(1)[0]
    assert rec['content_encoding'] == 'gzip' and rec['body_bytes'] == len(data)
    assert rec['spans'][0]['name'] == 'deployment.startup'


def test_keep_alive_connection_survives_a_rejection(rx):
    conn = rx.connection()
    try:
        assert rx.request(body(), token='wrong-token-0000', conn=conn)[0] == 401
        assert rx.request(body(), conn=conn)[0] == 200
    finally:
        conn.close()
    a, b = rx.wait_records(2)
    assert a['peer'] == b['peer']  # one connection, body of the 401 drained


def test_answers_come_back_without_a_delayed_ack_stall(rx):
    """A keep-alive answer must not wait ~40 ms for the client's delayed ACK."""
    conn = rx.connection()
    times = []
    try:
        for _ in range(11):
            t0 = time.monotonic()
            assert rx.request(body(), conn=conn)[0] == 200
            times.append(time.monotonic() - t0)
    finally:
        conn.close()
    assert sorted(times)[5] < 0.030, times


def test_concurrent_requests_get_their_own_verdicts(rx):
    """The in-process checker is shared: its findings must not leak across requests."""
    results = {}

    def send(i):
        doc = body()
        if i % 2:
            int64_as_number(doc)
        results[i] = rx.request(doc, timeout=20)[0]

    threads = [threading.Thread(target=send, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 400 if i % 2 else 200 for i in range(16)}
    for rec in rx.wait_records(16):
        failed = rec['checker'][0].startswith('FAIL')
        assert failed == (rec['status'] == 400), rec


# ---------------------------------------------------------------- bad bodies

# (mutation, which layer must catch it, a word the finding must contain)
BROKEN = [
    (int64_as_number, 'checker', '64-bit integer must be a decimal string'),
    (int_value_as_number, 'checker', '64-bit integer must be a decimal string'),
    (snake_case_key, 'checker', 'proto field name'),
    (base64_trace_id, 'checker', 'hex digits'),
    (enum_name, 'checker', 'enum must be an integer'),
    (duplicate_attribute, 'checker', 'duplicate attribute keys'),
    (no_service_name, 'both', 'service.name'),
    (long_string, 'receiver', 'string of 65 characters'),
    (long_resource_string, 'receiver', 'string of 65 characters'),
    (host_name, 'receiver', "resource keys not allowed: ['host.name']"),
    (token_in_body, 'receiver', 'write token appears in the body'),
    (forbidden_key, 'receiver', 'forbidden'),
    (array_value, 'receiver', 'not a string, int, double or bool'),
    (unknown_event, 'receiver', 'not one of'),
    (no_envelope, 'receiver', "envelope keys missing: ['synthorg_version']"),
]


@pytest.mark.parametrize('mutate,layer,finding', BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_broken_body_is_rejected(rx, mutate, layer, finding):
    doc = body()
    mutate(doc)
    status, _, data = rx.request(doc)
    assert status == 400, data
    rec = rx.wait_records(1)[0]
    assert rec['expected_status'] == 400 and rec['verdict'] == 'fail' and rec['checked']
    checker_failed = rec['checker'][0].startswith('FAIL')
    assert checker_failed == (layer in ('checker', 'both')), rec['checker']
    assert bool(rec['receiver_checks']) == (layer in ('receiver', 'both'))
    where = rec['checker'] if layer == 'checker' else rec['receiver_checks']
    assert any(finding in line for line in where), where


def test_a_body_that_crashes_the_checker_is_rejected(rx):
    doc = body()
    checker_crash(doc)
    assert rx.request(doc)[0] == 400
    rec = rx.wait_records(1)[0]
    assert rec['checker'][0].startswith('checker crashed: AttributeError'), rec['checker']
    assert rx.request(body())[0] == 200  # and the next body is judged afresh


def test_product_checks_can_be_turned_off_but_privacy_checks_cannot(checker, start_rx):
    rx = start_rx('--no-product-checks')
    doc = body()
    unknown_event(doc)
    assert rx.request(doc)[0] == 200
    host_name(doc)
    assert rx.request(doc)[0] == 400


def test_body_that_is_not_json_is_rejected(rx):
    assert rx.request(b'{"resourceSpans": [')[0] == 400
    rec = rx.wait_records(1)[0]
    assert rec['body_error'].startswith('not strict JSON') and rec['spans'] == []
    assert rec['checker'][0].startswith('FAIL')


def test_the_token_never_reaches_the_log(rx):
    rx.request(body(), token='Bearer ' + TOKEN)
    rx.request(body(), token='pylf_v1_us_wrongwrongwrong')
    doc = body()
    token_in_body(doc)
    rx.request(doc, headers=[('X-Copy', TOKEN)])
    rx.request(body())
    text = rx.log_file.read_text()
    assert len(rx.wait_records(4)) == 4
    assert TOKEN not in text and 'wrongwrongwrong' not in text
    assert '[REDACTED-TOKEN]' in text
    assert [r['auth'] for r in rx.records()] == ['bearer-scheme', 'mismatch', 'match', 'match']
    assert 'the write token appears in header X-Copy' in rx.records()[2]['receiver_checks']


# ---------------------------------------------------------------- headers

@pytest.mark.parametrize('token,auth', [
    ('pylf_v1_us_not-the-right-one', 'mismatch'),
    (None, 'missing'),
    ('Bearer ' + TOKEN, 'bearer-scheme'),
    (TOKEN + ' ', 'mismatch'),
])
def test_wrong_or_missing_token_gets_401(rx, token, auth):
    status, _, data = rx.request(body(), token=token)
    assert status == 401
    assert json.loads(data)['code'] == 16  # google.rpc UNAUTHENTICATED
    rec = rx.wait_records(1)[0]
    assert rec['auth'] == auth and rec['verdict'] is None and not rec['checked']


def test_two_authorization_headers_get_401(rx):
    assert rx.request(body(), headers=[('Authorization', TOKEN)])[0] == 401
    assert rx.wait_records(1)[0]['auth'] == 'duplicate'


@pytest.mark.parametrize('ctype', [
    'text/plain', None, 'application/x-protobuf',
    # Documented decision: no parameters, the product sends the bare type.
    'application/json; charset=utf-8',
])
def test_wrong_content_type_gets_415(rx, ctype):
    assert rx.request(body(), ctype=ctype)[0] == 415
    assert rx.wait_records(1)[0]['expected_status'] == 415


def test_unknown_content_encoding_gets_415(rx):
    assert rx.request(body(), headers=[('Content-Encoding', 'br')])[0] == 415


def test_body_over_the_cap_gets_413(checker, start_rx):
    rx = start_rx('--max-body', '4096')
    doc = body()
    assert rx.request(doc)[0] == 200
    big = json.dumps(doc).encode() + b' ' * 4096
    assert rx.request(big)[0] == 413
    zipped = gzip.compress(big)
    assert len(zipped) < 4096
    assert rx.request(zipped, headers=[('Content-Encoding', 'gzip')])[0] == 413


def test_chunked_body_without_content_length_gets_411(rx):
    conn = rx.connection()
    try:
        conn.request('POST', '/v1/traces', body=iter([json.dumps(body()).encode()]),
                     headers={'Authorization': TOKEN, 'Content-Type': 'application/json'},
                     encode_chunked=True)
        assert conn.getresponse().status == 411
    finally:
        conn.close()


def test_missing_content_length_gets_411(rx):
    with socket.create_connection(('127.0.0.1', rx.port), timeout=5) as s:
        s.sendall(f'POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: {TOKEN}\r\n'
                  f'Content-Type: application/json\r\n\r\n'.encode())
        assert s.recv(100).startswith(b'HTTP/1.1 411 ')


def test_other_paths_and_methods(rx):
    assert rx.request(body(), path='/v1/logs')[0] == 404
    status, headers, _ = rx.request(None, method='GET', ctype=None)
    assert status == 405 and headers['Allow'] == 'POST'
    assert [r['expected_status'] for r in rx.wait_records(2)] == [404, 405]


# ---------------------------------------------------------------- fidelity

@pytest.mark.parametrize('mutate', [None, int64_as_number, long_string, snake_case_key,
                                    checker_crash])
def test_verdict_is_the_checker_cli_verdict(checker, start_rx, tmp_path, mutate):
    """What the receiver calls the checker's verdict is what the CLI says."""
    keep = tmp_path / 'bodies'
    rx = start_rx('--keep-bodies', str(keep))
    doc = body()
    if mutate:
        mutate(doc)
    rx.request(doc)
    rec = rx.wait_records(1)[0]
    cli = subprocess.run([PYTHON, str(checker), '--logfire-log-span', 'traces',
                          str(keep / '1.json')], capture_output=True, text=True)
    assert (cli.returncode == 0) == rec['checker'][0].startswith('OK')
    strip = [line.split(': ', 1)[-1] for line in rec['checker'][1:]]
    assert strip == [line.split(': ', 1)[-1] for line in cli.stdout.splitlines()[1:]]


def test_subprocess_check_mode(checker, start_rx):
    rx = start_rx('--check-mode', 'subprocess')
    assert rx.request(body())[0] == 200
    doc = body()
    base64_trace_id(doc)
    assert rx.request(doc)[0] == 400
    good, bad = rx.wait_records(2)
    assert good['checker'][0].startswith('OK') and bad['checker'][0].startswith('FAIL')
    assert 'subprocess' in rx.stderr()


# ---------------------------------------------------------------- fault modes

def test_start_mode_status(checker, start_rx):
    rx = start_rx('--mode', 'status:500')
    assert rx.request(body())[0] == 500
    rec = rx.wait_records(1)[0]
    assert (rec['expected_status'], rec['status'], rec['mode']) == (200, 500, 'status:500')
    assert rec['verdict'] == 'pass'  # judged all the same


def test_status_modes_switched_at_run_time(rx):
    for code in (500, 429, 408, 400, 401, 503, 200):
        rx.set_mode(f'status:{code}')
        assert rx.request(body())[0] == code
    rx.set_mode('ok')
    assert rx.request(body())[0] == 200
    assert 'mode now status:500' in rx.stderr()


def test_deleting_the_mode_file_returns_to_the_start_mode(rx):
    rx.set_mode('status:502')
    assert rx.request(body())[0] == 502
    rx.mode_file.unlink()
    assert rx.request(body())[0] == 200


def test_invalid_mode_in_the_file_keeps_the_current_one(rx):
    rx.set_mode('status:503')
    assert rx.request(body())[0] == 503
    rx.set_mode('explode')
    assert rx.request(body())[0] == 503
    assert "ignoring mode file content 'explode'" in rx.stderr()


def test_retry_after(rx):
    rx.set_mode('retry-after:7')
    status, headers, _ = rx.request(body())
    assert status == 429 and headers['Retry-After'] == '7'
    assert rx.wait_records(1)[0]['retry_after'] == '7'


def test_retry_after_as_http_date(rx):
    rx.set_mode('retry-after-date:120')
    status, headers, _ = rx.request(body())
    assert status == 429
    when = email.utils.parsedate_to_datetime(headers['Retry-After'])
    assert 100 < when.timestamp() - time.time() <= 121


def test_slow(rx):
    rx.set_mode('slow:1.5')
    t0 = time.monotonic()
    assert rx.request(body(), timeout=10)[0] == 200
    assert time.monotonic() - t0 >= 1.5


def test_hang_times_the_client_out_and_blocks_nobody(rx):
    rx.set_mode('hang')
    conn = rx.connection(timeout=1)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        rx.request(body(), conn=conn)
    assert 0.9 < time.monotonic() - t0 < 3
    rec = rx.wait_records(1)[0]
    assert rec['answered'] is False and rec['status'] is None and rec['verdict'] == 'pass'
    # Another client is served while the first connection stays open, unanswered.
    rx.set_mode('ok')
    assert rx.request(body())[0] == 200
    conn.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        conn.sock.recv(1)  # no answer and no EOF: the socket is still open
    conn.close()


def test_hang_does_not_delay_the_stop(rx):
    rx.set_mode('hang')
    conn = rx.connection(timeout=1)
    with pytest.raises(TimeoutError):
        rx.request(body(), conn=conn)
    t0 = time.monotonic()
    assert rx.stop() == 0
    assert time.monotonic() - t0 < 3
    conn.close()


def test_refuse_and_back(rx):
    assert rx.request(body())[0] == 200
    rx.set_mode('refuse')
    rx.wait_refused(True)
    with pytest.raises(ConnectionRefusedError):
        rx.request(body())
    rx.set_mode('ok')
    rx.wait_refused(False)
    assert rx.request(body())[0] == 200  # same port as before


def test_refuse_from_the_start_still_publishes_the_port(checker, start_rx):
    rx = start_rx('--mode', 'refuse')
    rx.wait_refused(True)
    rx.set_mode('ok')
    rx.wait_refused(False)
    assert rx.request(body())[0] == 200


def test_close_without_answer(rx):
    rx.set_mode('close')
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        rx.request(body())
    rec = rx.wait_records(1)[0]
    assert rec['answered'] is False and rec['verdict'] == 'pass'


def test_fail_first(rx):
    rx.set_mode('fail-first:2')
    assert [rx.request(body())[0] for _ in range(4)] == [503, 503, 200, 200]
    rx.set_mode('fail-first:2')  # unchanged: the count goes on
    assert rx.request(body())[0] == 200
    rx.set_mode('fail-first:1')  # changed: the count restarts
    assert [rx.request(body())[0] for _ in range(2)] == [503, 200]


def test_fail_first_still_rejects_bad_bodies_after_the_failures(rx):
    rx.set_mode('fail-first:1')
    doc = body()
    host_name(doc)
    assert rx.request(doc)[0] == 503
    assert rx.request(doc)[0] == 400


def test_invalid_start_mode_is_a_usage_error(start_rx):
    rx = start_rx('--mode', 'sometimes', expect_ready=False)
    assert rx.proc.wait(10) == 2


# ---------------------------------------------------------------- signals, output

@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly(rx, sig):
    assert rx.request(body())[0] == 200
    assert rx.stop(sig) == 0
    assert rx.refused()


def test_sighup_rereads_the_mode_and_does_not_kill(rx):
    rx.set_mode('status:418')
    rx.proc.send_signal(signal.SIGHUP)
    time.sleep(0.2)
    assert rx.proc.poll() is None
    assert rx.request(body())[0] == 418


def test_print_shows_each_span_as_it_arrives(checker, start_rx):
    rx = start_rx('--print')
    rx.request(body('deployment.startup', 'deployment.shutdown', graceful=True))
    rx.request(body(), token='pylf_v1_us_wrongwrongwrong')
    deadline = time.monotonic() + 5
    while rx.stdout().count('\n') < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = rx.stdout().splitlines()  # read while running: proves the flush
    assert lines[0].startswith('[200] deployment.startup ')
    assert 'agent_count=3' in lines[0] and 'template_name="solo-founder"' in lines[0]
    assert 'logfire.' not in lines[0]
    assert lines[1].startswith('[200] deployment.shutdown ') and 'graceful=true' in lines[1]
    assert lines[2].startswith('[401] REJECTED 401 ')


@pytest.mark.skipif(not ipv6_loopback(), reason='no IPv6 loopback here')
def test_ipv6_loopback(checker, start_rx):
    rx = start_rx(host='::1')
    assert rx.request(body())[0] == 200
    assert rx.wait_records(1)[0]['peer'].startswith('::1:')


def test_host_must_be_loopback(start_rx):
    rx = start_rx('--host', '0.0.0.0', expect_ready=False)
    assert rx.proc.wait(10) == 2


# ---------------------------------------------------------------- HTTPS

def test_https_tls13(checker, start_rx, pki):
    rx = start_rx('--tls-cert', str(pki / 'server.pem'), '--tls-key', str(pki / 'server.key'),
                  tls_ca=pki / 'ca.pem')
    assert rx.request(body())[0] == 200
    assert rx.request(body(), host='localhost')[0] == 200
    assert [r['tls'] for r in rx.wait_records(2)] == ['TLSv1.3', 'TLSv1.3']


def test_https_tls12(checker, start_rx, pki):
    rx = start_rx('--tls-cert', str(pki / 'server.pem'), '--tls-key', str(pki / 'server.key'),
                  tls_ca=pki / 'ca.pem')
    ctx = ssl.create_default_context(cafile=str(pki / 'ca.pem'))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    assert rx.request(body(), context=ctx)[0] == 200
    assert rx.wait_records(1)[0]['tls'] == 'TLSv1.2'


@pytest.mark.filterwarnings('ignore:ssl.TLSVersion.TLSv1_1 is deprecated')
def test_https_tls11_is_refused_by_the_server(checker, start_rx, pki):
    rx = start_rx('--tls-cert', str(pki / 'server.pem'), '--tls-key', str(pki / 'server.key'),
                  tls_ca=pki / 'ca.pem')
    ctx = ssl.create_default_context(cafile=str(pki / 'ca.pem'))
    # Security level 0 lets this client offer TLS 1.1 at all, so the refusal
    # below is the server's (a protocol_version alert), not the client's.
    ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError, match='PROTOCOL_VERSION'):
        rx.request(body(), context=ctx)
    rx.wait_stderr('unsupported protocol')
    assert rx.request(body())[0] == 200  # and the server is fine afterwards


def test_https_client_without_the_ca_does_not_trust_it(checker, start_rx, pki):
    rx = start_rx('--tls-cert', str(pki / 'server.pem'), '--tls-key', str(pki / 'server.key'),
                  tls_ca=pki / 'ca.pem')
    with pytest.raises(ssl.SSLCertVerificationError):
        rx.request(body(), context=ssl.create_default_context())
    assert rx.request(body())[0] == 200


@pytest.mark.skipif(not ipv6_loopback(), reason='no IPv6 loopback here')
def test_https_on_ipv6_verifies_the_address(checker, start_rx, pki):
    rx = start_rx('--tls-cert', str(pki / 'server.pem'), '--tls-key', str(pki / 'server.key'),
                  tls_ca=pki / 'ca.pem', host='::1')
    assert rx.request(body())[0] == 200


@pytest.mark.skipif(shutil.which('curl') is None, reason='no curl CLI')
def test_https_with_ssl_cert_file_like_the_shim(checker, start_rx, pki, tmp_path):
    """The CA reaches a libcurl client through SSL_CERT_FILE, as SPEC 6 says."""
    rx = start_rx('--tls-cert', str(pki / 'server.pem'), '--tls-key', str(pki / 'server.key'),
                  tls_ca=pki / 'ca.pem')
    payload = tmp_path / 'body.json'
    payload.write_text(json.dumps(body()))
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
           'SSL_CERT_FILE': str(pki / 'ca.pem')}
    out = subprocess.run(
        ['curl', '-sS', '--noproxy', '*', '-o', '/dev/null', '-w', '%{http_code}',
         '-H', f'Authorization: {TOKEN}', '-H', 'Content-Type: application/json',
         '--data-binary', f'@{payload}', f'https://127.0.0.1:{rx.port}/v1/traces'],
        capture_output=True, text=True, env=env, timeout=30)
    assert out.stdout == '200', out.stderr


# ---------------------------------------------------------------- checker missing or broken

def env_without_ci(**extra):
    env = {k: v for k, v in os.environ.items() if k != 'CI'}
    env.update(extra)
    return env


def test_missing_checker_in_ci_refuses_to_start(start_rx, tmp_path):
    rx = start_rx('--checker', str(tmp_path / 'absent.py'), expect_ready=False,
                  env=env_without_ci(CI='true'))
    assert rx.proc.wait(10) == 2
    lines = rx.stderr().splitlines()
    assert len(lines) == 1 and 'not found' in lines[0] and 'CI' in lines[0], lines
    assert not rx.port_file.exists()


def test_missing_checker_outside_ci_warns_and_checks_structurally(start_rx, tmp_path):
    rx = start_rx('--checker', str(tmp_path / 'absent.py'), env=env_without_ci(CI=''))
    warnings = [ln for ln in rx.stderr().splitlines() if 'WARNING' in ln]
    assert len(warnings) == 1
    assert 'CHECKER NOT FOUND' in warnings[0] and 'structurally' in warnings[0]
    assert rx.request(body())[0] == 200
    doc = body()
    host_name(doc)
    assert rx.request(doc)[0] == 400
    assert rx.request({})[0] == 400
    recs = rx.wait_records(3)
    assert [r['checked'] for r in recs] == [False, False, False]
    assert recs[0]['spans'][0]['attributes']['agent_count'] == 3


def test_broken_checker_is_an_error_even_outside_ci(start_rx, tmp_path):
    fake = tmp_path / 'otlp-json-check.py'
    fake.write_text('def main():\n    raise SystemExit(0)\n')  # no compile_protos
    rx = start_rx('--checker', str(fake), expect_ready=False, env=env_without_ci())
    assert rx.proc.wait(10) == 2
    assert 'broken' in rx.stderr()


def test_default_checker_path_is_the_shared_one():
    out = subprocess.run([PYTHON, '-c', 'import receiver; print(receiver.DEFAULT_CHECKER)'],
                         cwd=HERE, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == SHARED_CHECKER
