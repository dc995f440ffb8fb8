#!/usr/bin/python3
"""Loopback stand-in for Logfire's OTLP/HTTP JSON trace intake, for testing synthorg-shim.

The shim's telemetry thread POSTs Logfire log spans to {base}/v1/traces. Pointed at
this receiver (base URL http(s)://127.0.0.1:PORT), a test can see exactly what was
sent, judge it as strictly as Logfire would plus the product's privacy contract
(SPEC sections 3 and 6), and make the intake misbehave on purpose to exercise
timeouts and retries. Python 3 standard library only; run it with /usr/bin/python3.

Command line
  receiver.py --token-file FILE [options]
    --host 127.0.0.1|::1   loopback address to listen on (default 127.0.0.1; nothing else
                           is accepted, the receiver never listens beyond loopback)
    --port N               port, 0 = let the kernel pick a free one (default 0)
    --port-file FILE       once listening, write the port number (decimal + newline) here,
                           atomically (temp file + rename): a reader sees all or nothing
    --tls-cert PEM --tls-key PEM
                           serve HTTPS (TLS 1.2 and 1.3 only); see make-pki.sh
    --token-file FILE      the expected write token, raw (surrounding whitespace ignored;
                           8+ characters from [A-Za-z0-9_.~+/=-])
    --log FILE             append one JSON line per request (format below)
    --print                print one readable line per received span on stdout, flushed
    --mode MODE            fault mode at start (default ok; modes below)
    --mode-file FILE       run-time control, see below
    --checker PATH         the strict OTLP JSON checker (default
                           <repo>/../shared/tools/otlp-json-check.py)
    --check-mode auto|inproc|subprocess
                           how the checker is run (default auto, see "Strict check")
    --max-body BYTES       largest accepted body, before and after gunzip (default 5 MiB,
                           the size above which the Logfire SDK splits a batch)
    --no-product-checks    skip the product-contract checks (event names, envelope keys,
                           service.name value); the privacy checks always run
    --keep-bodies DIR      also save each decoded body as DIR/<seq>.json
    --verbose              one access line per request on stderr
  Exit status: 0 after SIGTERM/SIGINT, 2 for a usage or setup error (bad option,
  unreadable token, checker missing while CI is set, checker present but unusable).

Fault modes (--mode, or the first line of the mode file)
  ok                 answer as Logfire would: 200 {} for a good request, else 4xx
  status:CODE        answer CODE (200..599) to every request
  retry-after:SECS   answer 429 with "Retry-After: SECS" (delta-seconds)
  retry-after-date:SECS
                     answer 429 with Retry-After as an HTTP-date SECS from now
  slow:SECS          wait SECS (may be fractional), then answer as in ok
  hang               read the request, never answer, keep the connection open
                     (until the receiver stops)
  refuse             close the listening socket so connect() is refused; switching to
                     any other mode listens again on the same port
  close              read the request, then close the connection without answering
  fail-first:N       answer 503 to the first N requests in this mode, then as in ok
  Every request is read, judged and logged whatever the mode; the mode only decides
  the answer. The fail-first count restarts whenever the mode changes.

Run-time control
  With --mode-file FILE, the mode is the file's first line when the file exists and
  is not empty, and the --mode value otherwise (so deleting the file resets it). The
  file is re-read at the start of every request and polled every 50 ms (that is how
  "refuse" is left again, as no request can arrive then); SIGHUP forces a re-read at
  once. Write it atomically (temp file + rename) so no half-written mode is seen; an
  invalid mode is reported on stderr and the previous mode stays. Each change prints
  "receiver: mode now MODE" on stderr. SIGTERM and SIGINT stop the receiver (exit 0).

What is checked, in this order (status in mode ok)
  path /v1/traces else 404; method POST else 405;
  Authorization exactly the token, no scheme, one header, else 401. Logfire also takes
    "Bearer <token>", but the product must send the raw token (logfire-otlp.md 1.3), so
    that form is refused here and logged as "bearer-scheme";
  Content-Type exactly "application/json" else 415. Parameters such as "; charset=utf-8"
    are refused on purpose: the product sends the bare media type, and this receiver
    is the oracle that notices if that ever drifts. (Logfire itself may be laxer.);
  Content-Encoding absent, identity or gzip, else 415 (the Logfire SDK gzips);
  Content-Length present (chunked bodies get 411) and at most --max-body, else 413;
  the body, else 400: the shared strict checker's verdict
    (otlp-json-check.py --logfire-log-span traces), and the receiver's own checks:
    privacy (always): resource attribute keys exactly {service.name, service.version,
      deployment.environment.name, service.instance.id, os.type, telemetry.sdk.name,
      telemetry.sdk.language, telemetry.sdk.version}; every string in a resource
      attribute or a span attribute at most 64 characters (Unicode code points), the
      span's logfire.* attributes excepted; span attributes other than logfire.* hold
      only a string, int, double or bool; their keys contain no forbidden pattern
      (SPEC 3); the write token appears nowhere in the request but the Authorization
      header;
    product (unless --no-product-checks): span name is one of the four events,
      every span carries the envelope keys event_timestamp, deployment_id,
      synthorg_version, os_platform ("Linux") and environment, service.name is
      "synthorg-shim".

Strict check
  The checker is the authority: a body passes only if the checker, run as
  "/usr/bin/python3 CHECKER --logfire-log-span traces FILE", would exit 0. Spawning it per
  request recompiles the protos each time (~0.1 s), so by default (inproc) the receiver
  loads the checker module once, lets it compile the protos once, and then runs the
  checker's own main() for each body under a lock, with the same arguments, the
  compile step answered from that one compiled copy and the checker's print() captured.
  The verdict is the exit status of that main(); an exception is a failure, just as
  the traceback and exit 1 of the CLI would be. --check-mode subprocess runs the CLI
  per request instead (auto falls back to it when this interpreter has no protobuf).
  If the checker file is missing: with CI set (non-empty) the receiver refuses to
  start; otherwise it warns loudly once and every record says "checked": false (only
  strict JSON parsing and the receiver's own checks are applied). A checker that is
  present but fails to load or compile is a broken tool: exit 2 either way.

Log format: one JSON object per line, written (and flushed) before the answer is sent:
  seq, time (UTC ISO 8601), unix, peer, tls (protocol version or null), method, path,
  mode, headers {lower-case name: value} with authorization replaced by "[match]" /
  "[mismatch]" / "[bearer-scheme]" / "[duplicate]", auth (the same word; "missing" when
  absent), expected_status (the answer in mode ok), status (what was answered, null
  when nothing was), answered, retry_after, errors (why expected_status is not 200),
  checked (the strict checker ran on this body), verdict ("pass" / "fail" / null when
  the body was never judged), check_ms, checker (its output lines), receiver_checks
  (the receiver's own findings), body_bytes (as received), content_encoding,
  body_error, spans: [{name, trace_id, span_id, parent_span_id, kind, flags,
  start_time_unix_nano, end_time_unix_nano, status, scope {name, version},
  attributes {key: value}, resource {key: value}}] where intValue becomes an int,
  doubleValue a float, boolValue a bool, arrayValue a list, kvlistValue a dict and
  bytesValue {"bytes": base64}. The token never appears in the log or on stdout: any
  occurrence is replaced by [REDACTED-TOKEN].
"""
import argparse
import email.utils
import hmac
import http.server
import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

REPO_TOP = Path(__file__).resolve().parents[2]
DEFAULT_CHECKER = REPO_TOP.parent / 'shared' / 'tools' / 'otlp-json-check.py'
CHECKER_PYTHON = '/usr/bin/python3'  # Debian's: the one that sees python3-protobuf
TRACES_PATH = '/v1/traces'
DEFAULT_MAX_BODY = 5 * 1024 * 1024
IDLE_TIMEOUT_S = 30     # an idle keep-alive connection is dropped after this
HANDSHAKE_TIMEOUT_S = 10
POLL_S = 0.05           # mode-file poll, listener open/close latency
REDACTED = '[REDACTED-TOKEN]'
TOKEN_RE = re.compile(r'[A-Za-z0-9_.~+/=-]{8,}')  # safe to replace inside JSON text

MAX_STRING = 64
ALLOWED_RESOURCE_KEYS = frozenset({
    'service.name', 'service.version', 'deployment.environment.name',
    'service.instance.id', 'os.type', 'telemetry.sdk.name',
    'telemetry.sdk.language', 'telemetry.sdk.version'})
FORBIDDEN_KEY_PATTERNS = ('key', 'token', 'secret', 'password', 'credential',
                          'bearer', 'auth', 'content', 'message', 'prompt',
                          'description')
EVENT_NAMES = frozenset({'deployment.startup', 'deployment.heartbeat',
                         'deployment.session_summary', 'deployment.shutdown'})
ENVELOPE_KEYS = ('event_timestamp', 'deployment_id', 'synthorg_version',
                 'os_platform', 'environment')
SERVICE_NAME = 'synthorg-shim'
SCALAR_MEMBERS = ('stringValue', 'intValue', 'doubleValue', 'boolValue')

# A google.rpc.Status code for each answer, so error bodies have the OTLP shape.
RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 408: 4, 411: 3, 413: 8,
             415: 3, 429: 8, 500: 13, 501: 12, 502: 14, 503: 14, 504: 4}


def say(msg):
    """One diagnostic line on stderr."""
    print(f'receiver: {msg}', file=sys.stderr, flush=True)


# ---------------------------------------------------------------- fault modes

class Mode:
    """A parsed fault mode; text is how it was written, arg its number if any."""

    def __init__(self, text):
        self.text = text.strip()
        name, _, arg = self.text.partition(':')
        self.name = name
        self.arg = None
        if name in ('ok', 'hang', 'refuse', 'close'):
            if arg:
                raise ValueError(f'mode {name} takes no argument')
        elif name == 'status':
            self.arg = _number(arg, int, name)
            if not 200 <= self.arg <= 599:
                raise ValueError('status must be 200..599')
        elif name in ('retry-after', 'retry-after-date', 'fail-first'):
            self.arg = _number(arg, int, name)
        elif name == 'slow':
            self.arg = _number(arg, float, name)
        else:
            raise ValueError(f'unknown mode {self.text!r}')

    def __eq__(self, other):
        return isinstance(other, Mode) and self.text == other.text

    def __hash__(self):
        return hash(self.text)


def _number(text, kind, name):
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f'mode {name} needs a number: {name}:N') from None
    if value < 0 or value != value:  # negative or NaN
        raise ValueError(f'mode {name} needs a non-negative number')
    return value


class ModeControl:
    """The current mode, from --mode and the optional mode file."""

    def __init__(self, start, mode_file):
        self._start = start
        self._file = mode_file
        self._lock = threading.Lock()
        self._mode = start
        self._served = 0          # requests seen in the current mode
        self._bad_text = None     # last invalid file content, reported once

    def _file_text(self):
        if not self._file:
            return ''
        try:
            with open(self._file, encoding='utf-8') as fh:
                return fh.readline().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return ''
        except OSError as e:
            say(f'cannot read mode file {self._file}: {e}')
            return ''

    def refresh(self):
        """Re-read the mode file; return the mode now in force."""
        text = self._file_text()
        with self._lock:
            if not text:
                wanted = self._start
            elif text == self._mode.text:
                return self._mode
            else:
                try:
                    wanted = Mode(text)
                except ValueError as e:
                    if text != self._bad_text:
                        self._bad_text = text
                        say(f'ignoring mode file content {text!r}: {e}; '
                            f'mode stays {self._mode.text}')
                    return self._mode
            if wanted != self._mode:
                self._mode = wanted
                self._served = 0
                say(f'mode now {wanted.text}')
            return self._mode

    def take(self):
        """Mode for a new request, and how many requests came before it in this mode."""
        mode = self.refresh()
        with self._lock:
            if mode is not self._mode:  # changed between refresh() and here
                mode = self._mode
            nth = self._served
            self._served += 1
        return mode, nth


# ---------------------------------------------------------------- strict check

class InProcessChecker:
    """Runs the shared checker's own main() in this process, protos compiled once.

    The checker keeps its findings in module globals and prints them, so calls are
    serialised with a lock and print() is shadowed by a module global that collects
    the lines (a module global wins over the builtin for code in that module).
    """
    how = 'inproc'

    def __init__(self, path):
        importlib.import_module('google.protobuf')  # ImportError: caller falls back
        spec = importlib.util.spec_from_file_location('shared_otlp_json_check', path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        self.pb2_dir = mod.compile_protos(mod.DEFAULT_PROTO_ROOT)
        # main() compiles on every call; answer that with the copy made above.
        mod.compile_protos = lambda _root: self.pb2_dir
        mod.print = self._collect
        self._mod = mod
        self._lines = []
        self._lock = threading.Lock()
        self.crashed = False  # the last check raised instead of giving a verdict

    def _collect(self, *args, sep=' ', end='\n', file=None, flush=False):
        self._lines.extend(sep.join(str(a) for a in args).splitlines())

    def check(self, body_path):
        with self._lock:
            self._lines = []
            self.crashed = False
            saved_argv, saved_path = sys.argv, list(sys.path)
            sys.argv = ['otlp-json-check.py', '--logfire-log-span', 'traces',
                        str(body_path)]
            try:
                self._mod.main()
                code = 0  # main() always ends in sys.exit; be safe anyway
            except SystemExit as e:
                code = e.code
                if isinstance(code, str):
                    self._lines.append(code)
            except Exception as e:  # the CLI would exit 1 with a traceback
                code = 1
                self.crashed = True
                self._lines.append(f'checker crashed: {type(e).__name__}: {e}')
            finally:
                sys.argv = saved_argv
                sys.path[:] = saved_path  # main() prepends the pb2 dir each call
            return code in (0, None), list(self._lines)

    def close(self):
        shutil.rmtree(self.pb2_dir, ignore_errors=True)


class SubprocessChecker:
    """Runs the checker CLI once per body: slower, but literally the command line."""
    how = 'subprocess'

    def __init__(self, path):
        self.path = str(path)
        self.crashed = False

    def check(self, body_path):
        self.crashed = False
        try:
            p = subprocess.run([CHECKER_PYTHON, self.path, '--logfire-log-span',
                                'traces', str(body_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.crashed = True
            return False, [f'checker could not run: {e}']
        self.crashed = 'Traceback (most recent call last)' in p.stdout
        return p.returncode == 0, p.stdout.splitlines()

    def close(self):
        pass


def load_checker(path, how):
    """Return a ready checker, or None when the file is missing. Raises on a broken one."""
    if not Path(path).is_file():
        return None
    if how in ('auto', 'inproc'):
        try:
            return InProcessChecker(path)
        except ImportError as e:
            if how == 'inproc':
                raise RuntimeError(f'cannot load the checker in process: {e}') from e
            say(f'no protobuf in this interpreter ({e}); '
                f'running the checker per request with {CHECKER_PYTHON}')
        except SystemExit as e:  # the checker's own "no .proto files" exit
            raise RuntimeError(f'checker cannot start: {e.code}') from e
        except (OSError, subprocess.CalledProcessError) as e:
            raise RuntimeError(f'checker cannot compile the protos: {e}') from e
        except Exception as e:  # not the module we know: a syntax error, no main()...
            raise RuntimeError(f'cannot load the checker: {type(e).__name__}: {e}') from e
    return SubprocessChecker(path)


def warm_up(checker, workdir):
    """Run one check at start so the first request does not pay for imports; time it."""
    body = {'resourceSpans': [{'resource': {'attributes': [
        {'key': 'service.name', 'value': {'stringValue': SERVICE_NAME}}]},
        'scopeSpans': [{'scope': {'name': 'logfire'}, 'spans': [{
            'traceId': '01' * 16, 'spanId': '02' * 8, 'name': 'warm.up', 'kind': 1,
            'startTimeUnixNano': '1', 'endTimeUnixNano': '1', 'attributes': [
                {'key': 'logfire.span_type', 'value': {'stringValue': 'log'}},
                {'key': 'logfire.level_num', 'value': {'intValue': '9'}},
                {'key': 'logfire.msg_template', 'value': {'stringValue': 'warm.up'}},
                {'key': 'logfire.msg', 'value': {'stringValue': 'warm.up'}}]}]}]}]}
    path = Path(workdir) / 'warm-up.json'
    path.write_text(json.dumps(body), encoding='utf-8')
    t0 = time.monotonic()
    ok, lines = checker.check(path)
    t1 = time.monotonic()
    ok, lines = checker.check(path)
    t2 = time.monotonic()
    path.unlink()
    if checker.crashed:
        raise RuntimeError(f'it crashes on a plain body: {lines}')
    if not ok:
        say(f'WARNING: the checker rejects the warm-up body: {lines}')
    return (t1 - t0) * 1000, (t2 - t1) * 1000


# ---------------------------------------------------------------- body reading

def _strict_pairs(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f'duplicate JSON key {k!r}')
        seen[k] = v
    return seen


def _reject_constant(name):
    raise ValueError(f'non-JSON constant {name}')


def parse_strict_json(data):
    """The same strictness the checker applies when loading: UTF-8, no dups, no NaN."""
    return json.loads(data.decode('utf-8'), object_pairs_hook=_strict_pairs,
                      parse_constant=_reject_constant)


def _list(x):
    return x if isinstance(x, list) else []


def _dict(x):
    return x if isinstance(x, dict) else {}


def any_value(v):
    """OTLP JSON AnyValue -> Python value (best effort: bad input is kept as is)."""
    if not isinstance(v, dict) or len(v) != 1:
        return v
    (member, val), = v.items()
    try:
        if member == 'intValue':
            return int(val)
        if member == 'doubleValue':
            return float(val)
        if member == 'arrayValue':
            return [any_value(x) for x in _list(_dict(val).get('values'))]
        if member == 'kvlistValue':
            return flatten(_dict(val).get('values'))
        if member == 'bytesValue':
            return {'bytes': val}
    except (TypeError, ValueError):
        return val
    return val  # stringValue, boolValue


def kv_pairs(kvs):
    """[(key, AnyValue dict)] of an attribute list, skipping malformed entries."""
    return [(kv['key'], kv.get('value')) for kv in _list(kvs)
            if isinstance(kv, dict) and isinstance(kv.get('key'), str)]


def flatten(kvs):
    return {k: any_value(v) for k, v in kv_pairs(kvs)}


def iter_spans(doc):
    """Yield (resource attrs, scope, span) for every span dict in a trace request."""
    for rs in _list(_dict(doc).get('resourceSpans')):
        res = _dict(_dict(rs).get('resource')).get('attributes')
        for ss in _list(_dict(rs).get('scopeSpans')):
            scope = _dict(_dict(ss).get('scope'))
            for span in _list(_dict(ss).get('spans')):
                if isinstance(span, dict):
                    yield res, scope, span


def _int_or_none(x):
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def summarize(doc):
    """The log's parsed view: one flat dict per span."""
    out = []
    for res, scope, span in iter_spans(doc):
        out.append({
            'name': span.get('name'),
            'trace_id': span.get('traceId'),
            'span_id': span.get('spanId'),
            'parent_span_id': span.get('parentSpanId'),
            'kind': span.get('kind'),
            'flags': span.get('flags'),
            'start_time_unix_nano': _int_or_none(span.get('startTimeUnixNano')),
            'end_time_unix_nano': _int_or_none(span.get('endTimeUnixNano')),
            'status': span.get('status'),
            'scope': {'name': scope.get('name'), 'version': scope.get('version')},
            'attributes': flatten(span.get('attributes')),
            'resource': flatten(res),
        })
    return out


# ---------------------------------------------------------------- own checks

def _strings(v):
    """Every string inside an AnyValue, arrays and kvlists included."""
    if not isinstance(v, dict):
        return
    for member, val in v.items():
        if member == 'stringValue' and isinstance(val, str):
            yield val
        elif member == 'arrayValue':
            for x in _list(_dict(val).get('values')):
                yield from _strings(x)
        elif member == 'kvlistValue':
            for _k, x in kv_pairs(_dict(val).get('values')):
                yield from _strings(x)


def _long_strings(where, key, value):
    return [f'{where} attribute {key!r}: string of {len(s)} characters '
            f'(at most {MAX_STRING})' for s in _strings(value) if len(s) > MAX_STRING]


def structure_findings(doc):
    """Only used without the strict checker: the bare shape of a trace request."""
    if not isinstance(doc, dict) or set(doc) - {'resourceSpans'}:
        return ['the body is not an object with only resourceSpans']
    found = []
    spans = list(iter_spans(doc))
    if not spans:
        found.append('no spans in the request')
    for _res, _scope, span in spans:
        for k in ('traceId', 'spanId', 'name', 'startTimeUnixNano', 'endTimeUnixNano'):
            if not isinstance(span.get(k), str) or not span.get(k):
                found.append(f'span {span.get("name")!r}: {k} missing or not a string')
    return found


def privacy_findings(doc):
    """SPEC 3 and 6: what may leave the process. Returns a list of findings."""
    found = []
    for ri, rs in enumerate(_list(_dict(doc).get('resourceSpans'))):
        pairs = kv_pairs(_dict(_dict(rs).get('resource')).get('attributes'))
        keys = {k for k, _ in pairs}
        extra, missing = sorted(keys - ALLOWED_RESOURCE_KEYS), sorted(ALLOWED_RESOURCE_KEYS - keys)
        if extra:
            found.append(f'resourceSpans[{ri}]: resource keys not allowed: {extra}')
        if missing:
            found.append(f'resourceSpans[{ri}]: resource keys missing: {missing}')
        for k, v in pairs:
            found += _long_strings('resource', k, v)
    for _res, _scope, span in iter_spans(doc):
        name = span.get('name')
        for k, v in kv_pairs(span.get('attributes')):
            if k.startswith('logfire.'):
                continue  # built after the scrubber from what passed (SPEC 3)
            where = f'span {name!r}'
            if not (isinstance(v, dict) and len(v) == 1 and next(iter(v)) in SCALAR_MEMBERS):
                found.append(f'{where} attribute {k!r}: value is not a string, int, '
                             f'double or bool')
            hits = [p for p in FORBIDDEN_KEY_PATTERNS if p in k.lower()]
            if hits:
                found.append(f'{where} attribute {k!r}: key matches forbidden {hits}')
            found += _long_strings(where, k, v)
    return found


def product_findings(doc):
    """SPEC 3 and 6: the four events, the envelope, the service name."""
    found = []
    for res, _scope, span in iter_spans(doc):
        name = span.get('name')
        if name not in EVENT_NAMES:
            found.append(f'span name {name!r} is not one of {sorted(EVENT_NAMES)}')
        attrs = flatten(span.get('attributes'))
        missing = [k for k in ENVELOPE_KEYS if k not in attrs]
        if missing:
            found.append(f'span {name!r}: envelope keys missing: {missing}')
        if 'os_platform' in attrs and attrs['os_platform'] != 'Linux':
            found.append(f'span {name!r}: os_platform is {attrs["os_platform"]!r}, '
                         f'not "Linux"')
        svc = flatten(res).get('service.name')
        if svc is not None and svc != SERVICE_NAME:
            found.append(f'service.name is {svc!r}, not {SERVICE_NAME!r}')
    return sorted(set(found), key=found.index)


# ---------------------------------------------------------------- the server

class Receiver:
    """Everything the request handlers share."""

    def __init__(self, args, token, checker, workdir):
        self.args = args
        self.token = token
        self.checker = checker
        self.workdir = workdir
        self.modes = ModeControl(Mode(args.mode), args.mode_file)
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.tls = None
        self.port = args.port
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._out_lock = threading.Lock()
        self._log = open(args.log, 'a', encoding='utf-8') if args.log else None
        # Kept so --print output never lands in a captured stream.
        self._stdout = sys.stdout

    def next_seq(self):
        with self._seq_lock:
            self._seq += 1
            return self._seq

    def redact(self, text):
        return text.replace(self.token, REDACTED)

    def record(self, rec):
        line = self.redact(json.dumps(rec, ensure_ascii=False, default=str)) + '\n'
        if self._log:
            with self._log_lock:
                self._log.write(line)
                self._log.flush()
        if self.args.verbose:
            say(f'{rec["method"]} {rec["path"]} -> {rec["status"]} ({rec["mode"]}) '
                f'{"; ".join(rec["errors"])}')
        if self.args.print:
            self.print_spans(rec)

    def print_spans(self, rec):
        tag = f'[{rec["status"]}]' if rec['answered'] else '[no answer]'
        if rec['expected_status'] != 200:
            tag += f' REJECTED {rec["expected_status"]}'
        lines = []
        for s in rec['spans']:
            attrs = ' '.join(f'{k}={json.dumps(v, ensure_ascii=False)}'
                             for k, v in s['attributes'].items()
                             if not k.startswith(('logfire.', 'code.')))
            lines.append(f'{tag} {s["name"]} {attrs}'.rstrip())
        if not lines:
            lines.append(f'{tag} {rec["method"]} {rec["path"]}: '
                         f'{"; ".join(rec["errors"]) or "no spans"}')
        with self._out_lock:
            for line in lines:
                self._stdout.write(self.redact(line) + '\n')
            self._stdout.flush()

    def close(self):
        if self._log:
            with self._log_lock:
                self._log.close()
                self._log = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as libcurl expects
    server_version = 'synthorg-test-receiver'
    sys_version = ''
    timeout = IDLE_TIMEOUT_S
    # Headers and body go out as two writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms per answer on Linux loopback).
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - base class signature
        pass  # the JSON log is the record; --verbose adds a line per request

    def do_POST(self):
        self.serve()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_POST

    # -- judging

    def serve(self):
        app = self.server.app
        mode, nth = app.modes.take()
        rec = self.new_record(app, mode)
        expected, reason, extra = self.judge(app, rec)
        rec['expected_status'] = expected
        if reason:
            rec['errors'].insert(0, reason)
        if expected is None:  # the request could not even be read
            rec['answered'] = False
            app.record(rec)
            self.close_connection = True
            return
        self.answer_by_mode(app, mode, nth, rec, expected, extra)

    def new_record(self, app, mode):
        now = time.time()
        tls = self.connection.version() if isinstance(self.connection, ssl.SSLSocket) else None
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f'{headers[name]}, {value}' if name in headers else value
        return {
            'seq': app.next_seq(),
            'time': datetime.fromtimestamp(now, timezone.utc).isoformat(timespec='milliseconds'),
            'unix': round(now, 6),
            'peer': f'{self.client_address[0]}:{self.client_address[1]}',
            'tls': tls, 'method': self.command, 'path': self.path, 'mode': mode.text,
            'headers': headers, 'auth': None,
            'expected_status': None, 'status': None, 'answered': True,
            'retry_after': None, 'errors': [],
            'checked': False, 'verdict': None, 'check_ms': None,
            'checker': [], 'receiver_checks': [],
            'body_bytes': None, 'content_encoding': self.headers.get('Content-Encoding'),
            'body_error': None, 'spans': [],
        }

    def judge(self, app, rec):
        """Decide the answer Logfire would give. Returns (status, reason, extra headers)."""
        rec['auth'] = self.judge_auth(app)
        rec['headers']['authorization'] = f'[{rec["auth"]}]'
        if rec['auth'] == 'missing':
            del rec['headers']['authorization']
        length, length_problem = self.framing(app)
        if self.path.split('?', 1)[0] != TRACES_PATH:
            return self.reject(404, f'no such path {self.path!r}', length)
        if self.command != 'POST':
            return self.reject(405, f'method {self.command} not allowed', length,
                               {'Allow': 'POST'})
        if rec['auth'] != 'match':
            return self.reject(401, f'Authorization {rec["auth"]}', length)
        ctypes = self.headers.get_all('Content-Type') or []
        if ctypes != ['application/json']:
            return self.reject(415, f'Content-Type {ctypes or "missing"}, '
                                    f'need exactly application/json', length)
        enc = (self.headers.get('Content-Encoding') or 'identity').strip().lower()
        if enc not in ('identity', 'gzip'):
            return self.reject(415, f'Content-Encoding {enc!r} not supported', length)
        if length_problem:
            return length_problem
        raw = self.read_body(length, rec)
        if raw is None:
            return None, 'request body incomplete', {}
        body = self.decode(raw, enc, rec)
        if isinstance(body, tuple):  # a rejection
            return body
        return self.judge_body(app, body, rec)

    def judge_auth(self, app):
        values = self.headers.get_all('Authorization') or []
        if not values:
            return 'missing'
        if len(values) > 1:
            return 'duplicate'
        got = values[0].encode('latin-1', 'replace')
        if hmac.compare_digest(got, app.token.encode()):
            return 'match'
        if hmac.compare_digest(got, b'Bearer ' + app.token.encode()):
            return 'bearer-scheme'  # Logfire tolerates it; the product must not send it
        return 'mismatch'

    def framing(self, app):
        """(Content-Length, None) or (None|length, rejection) for the body framing."""
        if self.headers.get('Transfer-Encoding'):
            return None, (411, 'chunked or other Transfer-Encoding: Content-Length required', {})
        values = self.headers.get_all('Content-Length') or []
        if not values:
            return None, (411, 'Content-Length missing', {})
        if len(set(values)) != 1 or not values[0].strip().isdigit():
            return None, (400, f'bad Content-Length {values}', {})
        length = int(values[0])
        if length > app.args.max_body:
            return None, (413, f'body of {length} bytes over the cap of '
                               f'{app.args.max_body}', {})
        return length, None

    def reject(self, status, reason, length, extra=None):
        """Reject before reading the body: drain it to keep the connection usable."""
        if length is None:
            self.close_connection = True
        else:
            try:
                self.rfile.read(length)
            except OSError:
                self.close_connection = True
        return status, reason, extra or {}

    def read_body(self, length, rec):
        try:
            raw = self.rfile.read(length)
        except OSError as e:
            raw = b''
            rec['body_error'] = f'reading the body failed: {e}'
        if len(raw) != length:
            rec['body_error'] = rec['body_error'] or f'got {len(raw)} of {length} bytes'
            return None
        rec['body_bytes'] = length
        return raw

    def decode(self, raw, enc, rec):
        if enc != 'gzip':
            return raw
        cap = self.server.app.args.max_body
        d = zlib.decompressobj(wbits=31)
        try:
            body = d.decompress(raw, cap + 1)
        except zlib.error as e:
            rec['body_error'] = f'bad gzip: {e}'
            return 400, 'body is not valid gzip', {}
        if len(body) > cap or d.unconsumed_tail:
            return 413, f'body over the cap of {cap} bytes once decompressed', {}
        if not d.eof or d.unused_data:
            rec['body_error'] = 'gzip stream truncated or followed by extra bytes'
            return 400, 'body is not valid gzip', {}
        return body

    def judge_body(self, app, body, rec):
        try:
            doc = parse_strict_json(body)
        except ValueError as e:  # UnicodeDecodeError and JSONDecodeError included
            doc = None
            rec['body_error'] = f'not strict JSON: {e}'
        if doc is not None:
            rec['spans'] = summarize(doc)
        own = [] if doc is None else privacy_findings(doc)
        if doc is not None and not app.checker:
            own = structure_findings(doc) + own
        if doc is not None and not app.args.no_product_checks:
            own += product_findings(doc)
        token_where = self.token_leaks(app, body)
        own += [f'the write token appears in {w}' for w in token_where]
        rec['receiver_checks'] = own

        path = Path(app.workdir) / f'req-{rec["seq"]}.json'
        path.write_bytes(body)
        if app.args.keep_bodies:
            shutil.copyfile(path, Path(app.args.keep_bodies) / f'{rec["seq"]}.json')
        strict_ok = doc is not None
        if app.checker:
            t0 = time.monotonic()
            strict_ok, rec['checker'] = app.checker.check(path)
            rec['check_ms'] = round((time.monotonic() - t0) * 1000, 2)
            rec['checked'] = True
        path.unlink()

        rec['verdict'] = 'pass' if strict_ok and not own else 'fail'
        if rec['verdict'] == 'pass':
            return 200, None, {}
        # The answer names the first finding of each layer; the log has them all.
        why = []
        if not strict_ok and app.checker:
            first = [ln.strip(' -') for ln in rec['checker'] if ln.startswith('  - ')]
            why.append('strict checker: ' + (first or rec['checker'] or ['FAIL'])[0])
        elif not strict_ok:
            why.append(rec['body_error'])
        if own:
            why.append(f'receiver check: {own[0]}' +
                       (f' (+{len(own) - 1} more)' if len(own) > 1 else ''))
        return 400, '; '.join(why), {}

    def token_leaks(self, app, body):
        where = []
        if app.token.encode() in body:
            where.append('the body')
        for name, value in self.headers.items():
            if name.lower() != 'authorization' and app.token in value:
                where.append(f'header {name}')
        if app.token in self.path:
            where.append('the path')
        return where

    # -- answering

    def answer_by_mode(self, app, mode, nth, rec, expected, extra):
        status, reason = expected, rec['errors'][0] if rec['errors'] else None
        if mode.name == 'status':
            status = mode.arg
        elif mode.name in ('retry-after', 'retry-after-date'):
            status = 429
            extra = dict(extra)
            extra['Retry-After'] = (str(mode.arg) if mode.name == 'retry-after' else
                                    email.utils.formatdate(time.time() + mode.arg,
                                                           usegmt=True))
            rec['retry_after'] = extra['Retry-After']
        elif mode.name == 'fail-first' and nth < mode.arg:
            status = 503
        elif mode.name == 'slow':
            if app.stop.wait(mode.arg):
                mode = Mode('close')  # stopping: give up on this answer
        if status != expected:
            reason = f'fault mode {mode.text}'
        if mode.name in ('hang', 'close', 'refuse'):
            # refuse: the listener is closing; this one slipped in before it did.
            rec['answered'] = False
            app.record(rec)
            self.close_connection = True
            if mode.name == 'hang':
                app.stop.wait()  # never answer; the socket stays open until we stop
            return
        rec['status'] = status
        app.record(rec)
        self.send_json(status, reason, extra)

    def send_json(self, status, reason, extra):
        if status == 200:
            data = b'{}'
        else:
            data = json.dumps({'code': RPC_CODES.get(status, 2),
                               'message': reason or f'status {status}'}).encode()
        try:
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header('Connection', 'close')
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client went away; nothing to do


class Server(http.server.ThreadingHTTPServer):
    """Threaded, so a hanging or slow answer never holds up other connections."""
    daemon_threads = True
    block_on_close = False  # a hanging answer must not hold up the stop
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, app, host, port):
        self.app = app
        self.address_family = socket.AF_INET6 if ':' in host else socket.AF_INET
        super().__init__((host, port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind would call getfqdn(), a resolver lookup; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread, so a client
        # that connects and stays silent cannot block the accept loop.
        if not self.app.tls:
            return super().finish_request(request, client_address)
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            conn = self.app.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            say(f'TLS handshake with {client_address[0]} failed: {e}')
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def handle_error(self, request, client_address):
        say(f'error while serving {client_address[0]}: {sys.exc_info()[1]!r}')


# ---------------------------------------------------------------- start and run

def write_port_file(path, port):
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w', encoding='ascii') as fh:
        fh.write(f'{port}\n')
    os.replace(tmp, path)


def read_token(path):
    try:
        token = Path(path).read_text(encoding='utf-8').strip()
    except (OSError, UnicodeDecodeError) as e:
        raise SystemExit(f'receiver: error: cannot read the token file: {e}') from None
    if not TOKEN_RE.fullmatch(token):
        raise SystemExit('receiver: error: the token must be 8 or more characters '
                         'from [A-Za-z0-9_.~+/=-]')
    return token


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    return ctx


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--host', default='127.0.0.1', choices=['127.0.0.1', '::1'])
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file')
    ap.add_argument('--tls-cert')
    ap.add_argument('--tls-key')
    ap.add_argument('--token-file', required=True)
    ap.add_argument('--log')
    ap.add_argument('--print', action='store_true')
    ap.add_argument('--mode', default='ok')
    ap.add_argument('--mode-file')
    ap.add_argument('--checker', default=str(DEFAULT_CHECKER))
    ap.add_argument('--check-mode', default='auto', choices=['auto', 'inproc', 'subprocess'])
    ap.add_argument('--max-body', type=int, default=DEFAULT_MAX_BODY)
    ap.add_argument('--no-product-checks', action='store_true')
    ap.add_argument('--keep-bodies')
    ap.add_argument('--verbose', action='store_true')
    args = ap.parse_args(argv)
    try:
        Mode(args.mode)
    except ValueError as e:
        ap.error(f'--mode: {e}')
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error('--tls-cert and --tls-key go together')
    if not 0 <= args.port <= 65535:
        ap.error('--port must be 0..65535')
    if args.max_body < 1:
        ap.error('--max-body must be positive')
    if args.keep_bodies:
        os.makedirs(args.keep_bodies, exist_ok=True)
    return args


def setup_checker(args, workdir):
    """The checker, or None when it is missing and CI allows that. Exits 2 otherwise."""
    try:
        checker = load_checker(args.checker, args.check_mode)
    except RuntimeError as e:
        raise SystemExit(f'receiver: error: checker {args.checker} is broken: {e}') from None
    if checker is None:
        if os.environ.get('CI'):
            raise SystemExit(f'receiver: error: strict OTLP checker not found at '
                             f'{args.checker} and CI is set: refusing to start')
        say(f'WARNING !!! STRICT OTLP CHECKER NOT FOUND at {args.checker} !!! bodies '
            f'are only checked structurally (strict JSON + privacy rules), NOT against '
            f'the OTLP protos; every log record says "checked": false !!!')
        return None
    try:
        first, second = warm_up(checker, workdir)
    except RuntimeError as e:
        checker.close()
        raise SystemExit(f'receiver: error: checker {args.checker} is broken: {e}') from None
    say(f'checker {args.checker} ready ({checker.how}): first check {first:.0f} ms, '
        f'then {second:.1f} ms per body')
    return checker


def open_listener(app):
    """Bind and listen on the receiver's address; the first call learns the port."""
    server = Server(app, app.args.host, app.port)
    first = app.port == 0 or app.args.port_file and not os.path.exists(app.args.port_file)
    app.port = server.server_address[1]
    if app.args.port_file:
        write_port_file(app.args.port_file, app.port)
    host = f'[{app.args.host}]' if ':' in app.args.host else app.args.host
    say(f'listening on {"https" if app.tls else "http"}://{host}:{app.port}'
        + (f' mode={app.modes.refresh().text}' if first else ''))
    return server


def run(app):
    """Keep the listener open or closed as the mode asks, until SIGTERM/SIGINT."""
    # Listen once even when starting in refuse mode, to learn (and publish) the port
    # that later modes will listen on again. A failure here is a setup error.
    server = open_listener(app)
    serving = False
    bind_error = None
    while True:
        want = not app.stop.is_set() and app.modes.refresh().name != 'refuse'
        if want and server is None:
            try:
                server = open_listener(app)
                bind_error = None
            except OSError as e:
                # Someone took the port while we refused; say so once, keep trying.
                if str(e) != bind_error:
                    bind_error = str(e)
                    say(f'WARNING: cannot listen again on port {app.port}: {e}; retrying')
        if want and server is not None and not serving:
            threading.Thread(target=server.serve_forever, args=(POLL_S,),
                             daemon=True).start()
            serving = True
        elif not want and server is not None:
            if serving:
                server.shutdown()
            server.server_close()
            server, serving = None, False
            if not app.stop.is_set():
                say(f'listener closed (refuse): port {app.port} refuses connections')
        if app.stop.is_set():
            return
        app.wake.wait(POLL_S)
        app.wake.clear()


def main(argv=None):
    args = parse_args(argv)
    token = read_token(args.token_file)
    workdir = tempfile.mkdtemp(prefix='synthorg-receiver-')
    checker = None
    try:
        checker = setup_checker(args, workdir)
        app = Receiver(args, token, checker, workdir)
        if args.tls_cert:
            try:
                app.tls = tls_context(args.tls_cert, args.tls_key)
            except (OSError, ssl.SSLError) as e:
                raise SystemExit(f'receiver: error: cannot load the TLS key pair: {e}') from None

        def on_stop(signum, _frame):
            say(f'{signal.Signals(signum).name}: stopping')
            app.stop.set()
            app.wake.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, lambda *_: app.wake.set())
        try:
            run(app)
        except OSError as e:
            raise SystemExit(f'receiver: error: cannot listen: {e}') from None
        finally:
            app.close()
    finally:
        if checker:
            checker.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except SystemExit as e:
        # argparse exits 2 itself; our own setup errors carry a message: exit 2 too.
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            sys.exit(2)
        raise
