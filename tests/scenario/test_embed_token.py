"""scripts/embed-token round trip: a build with a token reports it present,
a build without carries the sentinel, and the token itself never shows up
in what the shim or the script print."""
import hashlib
import os
import secrets
import stat
import subprocess

import pytest

from harness import REPO, env, log_lines, pidns_cmd

EMBED = os.path.join(REPO, "scripts", "embed-token")
MAGIC = b"SYNTHORG-SHIM-EMBED-SLOT-v1"
SLOT_MAGIC_SIZE = 32
SLOT_TOKEN_SIZE = 512
SENTINEL = "SYNTHORG-SHIM-NO-TOKEN-EMBEDDED"


def fake_token():
    """Shaped like a Logfire write token, unique to the test, so that any
    occurrence of it in an output can only be a leak."""
    return "pylf_v1_us_embedtest" + secrets.token_hex(16)


def embed(shim, out, token_file, *extra):
    return subprocess.run([EMBED, "--token-file", str(token_file), *extra,
                           shim, str(out)], capture_output=True, text=True,
                          env=env(), timeout=60)


def run_shim(binary, data_dir, args=("true",), **extra):
    """The shim as PID 1 of a fresh PID namespace, telemetry on in dry-run
    mode (records go to stderr, nothing is sent)."""
    e = env(SYNTHORG_TELEMETRY_ENABLED="1", SYNTHORG_TELEMETRY_DRY_RUN="1",
            SYNTHORG_DATA_DIR=str(data_dir), **extra)
    return subprocess.run(pidns_cmd(list(args), shim=str(binary)), env=e,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def token_file(tmp_path):
    token = fake_token()
    path = tmp_path / "token"
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token, path


@pytest.fixture
def embedded(shim, tmp_path, token_file):
    token, path = token_file
    out = tmp_path / "synthorg-shim-with-token"
    r = embed(shim, out, path)
    assert r.returncode == 0, r.stderr
    assert token not in r.stdout + r.stderr
    return token, out


def test_embedded_token_is_reported_present(embedded, tmp_path):
    token, binary = embedded
    data = tmp_path / "data"
    data.mkdir()
    r = run_shim(binary, data)
    assert r.returncode == 0, r.stderr
    assert len(log_lines(r.stderr, "telemetry.reporter.initialized")) == 1, \
        r.stderr
    assert log_lines(r.stderr, "telemetry.token.missing") == []
    # The run went as far as the records (dry-run prints them).
    assert log_lines(r.stderr, "telemetry.dry_run"), r.stderr
    assert token not in r.stdout + r.stderr


def test_build_without_token_reports_the_sentinel(shim, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    r = run_shim(shim, data)
    assert r.returncode == 0, r.stderr
    missing = log_lines(r.stderr, "telemetry.token.missing")
    assert len(missing) == 1, r.stderr
    assert missing[0]["level"] == "error"
    assert log_lines(r.stderr, "telemetry.reporter.initialized") == []
    assert log_lines(r.stderr, "telemetry.dry_run") == []
    # The sentinel is the binary's business, not the operator's.
    assert SENTINEL not in r.stderr


def test_token_absent_from_logs_at_every_verbosity(embedded, tmp_path):
    token, binary = embedded
    data = tmp_path / "data"
    data.mkdir()
    r = run_shim(binary, data, args=("-v", "-v", "-v", "sh", "-c", "exit 3"),
                 TINI_VERBOSITY="3")
    assert r.returncode == 3, r.stderr
    assert log_lines(r.stderr, "telemetry.reporter.initialized"), r.stderr
    assert token not in r.stdout + r.stderr
    # Nor in what the shim left on disk (the deployment ID; no spool in
    # dry-run mode).
    for name in os.listdir(data):
        with open(data / name, "rb") as f:
            assert token.encode() not in f.read(), name


def test_embedding_writes_a_copy_and_keeps_the_input(shim, tmp_path,
                                                     token_file):
    token, path = token_file
    with open(shim, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()
    out = tmp_path / "out"
    r = embed(shim, out, path, "--base-url", "https://logfire.invalid")
    assert r.returncode == 0, r.stderr
    with open(shim, "rb") as f:
        raw_in = f.read()
    assert hashlib.sha256(raw_in).hexdigest() == before
    assert token.encode() not in raw_in
    with open(out, "rb") as f:
        raw = f.read()
    assert len(raw) == len(raw_in)
    assert raw.count(token.encode()) == 1
    assert os.stat(out).st_mode & stat.S_IXUSR
    # The token and URL sit in the one embed slot, NUL-padded.
    at = raw.index(MAGIC) + SLOT_MAGIC_SIZE
    assert raw[at:at + len(token) + 1] == token.encode() + b"\0"
    url_at = at + SLOT_TOKEN_SIZE
    assert raw[url_at:url_at + 24] == b"https://logfire.invalid\0"
    assert token not in r.stdout + r.stderr


@pytest.mark.parametrize("content", ["", "   \n", "two words",
                                     SENTINEL])
def test_embed_refuses_bad_tokens(shim, tmp_path, content):
    path = tmp_path / "token"
    path.write_text(content)
    out = tmp_path / "out"
    r = embed(shim, out, path)
    assert r.returncode != 0
    assert r.stderr.startswith("embed-token: "), r.stderr
    assert not out.exists()


def test_embed_refuses_a_second_token(embedded, tmp_path):
    """A binary that already carries a token is no input: re-embedding
    would hide which token a release ships."""
    token, binary = embedded
    other = tmp_path / "other-token"
    other_token = fake_token()
    other.write_text(other_token)
    r = embed(str(binary), tmp_path / "again", other)
    assert r.returncode != 0
    assert "already carries a token" in r.stderr
    assert token not in r.stderr and other_token not in r.stderr


def test_embed_refuses_a_file_without_the_slot(tmp_path, token_file):
    token, path = token_file
    not_shim = tmp_path / "not-shim"
    not_shim.write_bytes(b"\x7fELF" + b"\0" * 4096)
    r = embed(str(not_shim), tmp_path / "out", path)
    assert r.returncode != 0
    assert "no embed slot" in r.stderr
    assert token not in r.stderr
