"""The init scenarios under valgrind's memcheck: no error, no leak.

memcheck cannot follow malloc inside a static binary, so this runs the
glibc build of the same sources (build/dyn/synthorg-shim, `make dyn`) as
PID 1 of a PID namespace.  valgrind 3.19 does not know seccomp(2), so the
telemetry thread refuses to send there (its fail-safe); the telemetry
set-up up to that point still runs under memcheck.
"""
import os
import signal
import subprocess
import time

import pytest

from harness import (REPO, UNSHARE, LineReader, env, log_lines, ns_init_pid,
                     wait_for)

DYN = os.path.join(REPO, "build", "dyn", "synthorg-shim")
VALGRIND = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--track-fds=no",
            "--trace-children=no"]


@pytest.fixture(scope="module")
def dyn():
    if not os.access(DYN, os.X_OK):
        pytest.fail(f"{DYN} missing: run `make dyn`")
    return DYN


def vg_cmd(args):
    return (UNSHARE + VALGRIND +
            [DYN] + list(args))


def assert_clean(stderr):
    bad = [l for l in stderr.splitlines() if l.startswith("==")]
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("script,code", [
    ("exit 0", 0), ("exit 42", 42), ("kill -TERM $$", 143),
    ("orphans 50 0; exit 7", 7),
    ("(trap '' TERM; sleep 100) & sleep 0.2; exit 6", 6),
    ("(trap 'exit 0' TERM; while :; do sleep 0.05; done) & sleep 0.2; exit 5", 5),
])
def test_scenarios_exit_clean(dyn, helpers, script, code):
    r = subprocess.run(vg_cmd(["-w", "sh", "-c", script]),
                       env=env(SYNTHORG_SHIM_GRACE_SECONDS=0.5),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == code, r.stderr
    assert_clean(r.stderr)


def test_usage_error_and_exec_failure_clean(dyn):
    for args, code in ((["-x", "true"], 2), (["/nonexistent"], 127),
                       (["-e", "127", "/nonexistent"], 0)):
        r = subprocess.run(vg_cmd(args), env=env(), capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == code, r.stderr
        assert_clean(r.stderr)


def test_signals_forwarded_clean(dyn, helpers):
    p = subprocess.Popen(vg_cmd(["sigprint"]), env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        lines = LineReader(p.stdout)
        lines.wait_for("ready", timeout=60)
        # valgrind itself is PID 1's process: find the shim's pid in it.
        init = ns_init_pid(p.pid)
        for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGRTMIN + 1,
                    signal.SIGWINCH):
            os.kill(init, sig)
            lines.wait_for(f"signal {int(sig)}", timeout=30)
        os.kill(init, signal.SIGTERM)
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert_clean(p.stderr.read())


def test_telemetry_setup_clean(dyn, tmp_path):
    # Dry-run needs a token in the build; the sandbox then fails under
    # valgrind, and the thread stops there, as it must.
    tok = tmp_path / "tok"
    tok.write_text("pylf_v1_us_valgrindToken00000")
    binary = tmp_path / "shim"
    subprocess.run([os.path.join(REPO, "scripts", "embed-token"),
                    "--token-file", str(tok), "--base-url",
                    "http://127.0.0.1:9", DYN, str(binary)], check=True,
                   capture_output=True)
    r = subprocess.run(
        UNSHARE + VALGRIND +
        [str(binary), "sh", "-c", "sleep 1; exit 3"],
        env=env(SYNTHORG_TELEMETRY_ENABLED=1, SYNTHORG_DATA_DIR=tmp_path,
                SYNTHORG_TELEMETRY_DRY_RUN=1),
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr
    assert log_lines(r.stderr, "telemetry.reporter.initialized")
    assert (tmp_path / "telemetry_id").exists()
    assert_clean(r.stderr)
