"""Signals as PID 1: forwarding, process groups, inherited state, stops."""
import os
import signal
import subprocess
import time

import pytest

from harness import (SHIM, UNSHARE, LineReader, env, log_lines, ns_init_pid,
                     parse_probe,
                     proc_state, proc_status, children_of, run_pid1, sigset,
                     start_pid1, wait_for)

# SIGKILL and SIGSTOP cannot be caught; SIGCHLD drives reaping.  32 to 34,
# which libcs keep for themselves, are forwarded too: 34 is glibc's RTMIN.
UNFORWARDABLE = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD}
FORWARDABLE = [s for s in range(1, 65) if s not in UNFORWARDABLE]


def start_sigprint(extra=(), environ=None):
    p = start_pid1(list(extra) + ["sigprint"], environ=environ)
    lines = LineReader(p.stdout)
    lines.wait_for("ready")
    return p, lines, ns_init_pid(p.pid)


def stop(p, timeout=10):
    try:
        return p.wait(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_every_catchable_signal_is_forwarded(shim, helpers):
    p, lines, init = start_sigprint()
    try:
        for sig in FORWARDABLE:
            if sig == signal.SIGTERM:
                continue
            os.kill(init, sig)
            lines.wait_for(f"signal {sig}", timeout=5)
        os.kill(init, signal.SIGTERM)
        lines.wait_for("signal 15")
        assert stop(p) == 0
    finally:
        if p.poll() is None:
            p.kill()
    err = p.stderr.read()
    assert log_lines(err, "signal.forward_failed") == []


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE,
                                 signal.SIGILL, signal.SIGABRT, signal.SIGTRAP,
                                 signal.SIGSYS])
def test_user_sent_fault_signals_are_forwarded(shim, helpers, sig):
    p, lines, init = start_sigprint()
    try:
        os.kill(init, sig)
        lines.wait_for(f"signal {int(sig)}", timeout=5)
        # The shim survived the fault signal and still serves others.
        assert proc_state(init) in ("S", "R")
        os.kill(init, signal.SIGTERM)
        assert stop(p) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_realtime_signals_queue_without_loss(shim, helpers):
    p, lines, init = start_sigprint()
    try:
        rt = signal.SIGRTMIN + 5
        for _ in range(20):
            os.kill(init, rt)
        got = lines.wait_for(lambda l: lines.seen.count(f"signal {rt}") == 20,
                             timeout=10)
        assert got
        os.kill(init, signal.SIGTERM)
        assert stop(p) == 0
    finally:
        if p.poll() is None:
            p.kill()


def group_run(tmp_path, extra, reached):
    """Main child and two background members of its process group, each a
    sigprint writing to its own file; SIGUSR1 to the shim, then SIGUSR2
    (which only the main child exits on) to end the run."""
    script = (f"sigprint --exit-on 10 > {tmp_path}/a & "
              f"sigprint --exit-on 10 > {tmp_path}/b & "
              f"exec sigprint --exit-on 12")
    p = start_pid1(list(extra) + ["sh", "-c", script],
                   environ=env(SYNTHORG_SHIM_GRACE_SECONDS=0))
    lines = LineReader(p.stdout)
    lines.wait_for("ready")
    for f in ("a", "b"):
        wait_for(lambda: (tmp_path / f).exists() and
                 "ready" in (tmp_path / f).read_text(), what=f"{f} ready")
    init = ns_init_pid(p.pid)
    os.kill(init, signal.SIGUSR1)
    lines.wait_for("signal 10")
    if reached:
        for f in ("a", "b"):
            wait_for(lambda: "signal 10" in (tmp_path / f).read_text(),
                     what=f"SIGUSR1 at {f}")
    else:
        time.sleep(0.5)
    os.kill(init, signal.SIGUSR2)
    assert stop(p) == 0
    return [(tmp_path / f).read_text() for f in ("a", "b")]


def test_dash_g_reaches_the_whole_process_group(shim, helpers, tmp_path):
    a, b = group_run(tmp_path, ["-g"], reached=True)
    assert "signal 10" in a and "signal 10" in b


def test_without_dash_g_only_the_child_is_signalled(shim, helpers, tmp_path):
    a, b = group_run(tmp_path, [], reached=False)
    assert "signal 10" not in a and "signal 10" not in b


def test_tini_kill_process_group_env(shim, helpers, tmp_path):
    script = (f"sigprint --exit-on 10 > {tmp_path}/a & "
              f"exec sigprint --exit-on 10")
    p = start_pid1(["sh", "-c", script],
                   environ=env(TINI_KILL_PROCESS_GROUP=1))
    lines = LineReader(p.stdout)
    lines.wait_for("ready")
    wait_for(lambda: (tmp_path / "a").exists() and
             "ready" in (tmp_path / "a").read_text())
    os.kill(ns_init_pid(p.pid), signal.SIGUSR1)
    assert stop(p) == 0
    assert "signal 10" in (tmp_path / "a").read_text()


# unshare itself resets SIGCHLD for its own waiting, so the signal state
# under test is set up inside the namespace, right before exec'ing the shim.
SET_STATE = """
import os, signal, sys
ign, blk = sys.argv[1], sys.argv[2]
# Python itself ignores SIGPIPE and SIGXFSZ: start from all defaults.
for s in signal.valid_signals():
    try:
        signal.signal(s, signal.SIG_DFL)
    except (OSError, ValueError):
        pass
for s in filter(None, ign.split(",")):
    signal.signal(int(s), signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_SETMASK,
                       [int(s) for s in filter(None, blk.split(","))])
os.execv(sys.argv[3], sys.argv[3:])
"""


def run_with_state(ignored, blocked, args):
    return subprocess.run(
        UNSHARE + [
         "/usr/bin/python3", "-c", SET_STATE,
         ",".join(str(int(s)) for s in ignored),
         ",".join(str(int(s)) for s in blocked), SHIM] + args,
        env=env(), capture_output=True, text=True, timeout=20)


# glibc keeps 32 and 33 for itself, so Python cannot reset them: whatever
# the test runner inherited there passes through and is not looked at.
LIBC_RESERVED = {32, 33}


def probe_with(ignored, blocked):
    r = run_with_state(ignored, blocked, ["probe"])
    assert r.returncode == 0, r.stderr
    pr = parse_probe(r.stdout)
    return {"blocked": sigset(pr["blocked"]) - LIBC_RESERVED,
            "ignored": sigset(pr["ignored"]) - LIBC_RESERVED}


def test_child_gets_a_clean_signal_state(shim, helpers):
    pr = probe_with([], [])
    assert pr["blocked"] == set()
    assert pr["ignored"] == set()


def test_inherited_ignored_and_blocked_signals_survive(shim, helpers):
    pr = probe_with([signal.SIGUSR1, signal.SIGPIPE],
                    [signal.SIGUSR2, signal.SIGRTMIN + 1])
    assert pr["blocked"] == {signal.SIGUSR2, signal.SIGRTMIN + 1}
    assert pr["ignored"] == {signal.SIGUSR1, signal.SIGPIPE}


def test_inherited_ignored_sigchld_still_reaps(shim, helpers):
    # The child gets SIGCHLD ignored back, as the shim was given it...
    pr = probe_with([signal.SIGCHLD], [])
    assert pr["ignored"] == {signal.SIGCHLD}
    # ...while the shim itself still learns the child's status and reaps.
    r = run_with_state([signal.SIGCHLD], [],
                       ["sh", "-c", "orphans 5 0; exit 9"])
    assert r.returncode == 9, r.stderr


def test_child_is_its_own_process_group(shim, helpers):
    r = run_pid1(["probe"])
    pr = parse_probe(r.stdout)
    assert pr["pid"] == "2" and pr["ppid"] == "1"
    assert pr["pgid"] == pr["pid"]


def test_sigterm_ends_a_stopped_app(shim):
    p = start_pid1(["sleep", "100"])
    init = ns_init_pid(p.pid)
    app = wait_for(lambda: children_of(init), what="app")[0]
    os.kill(init, signal.SIGTSTP)          # forwarded: the app stops
    wait_for(lambda: proc_state(app) == "T", what="app stopped")
    os.kill(init, signal.SIGTERM)          # docker stop's request
    assert stop(p, timeout=10) == 143


def test_stopped_app_left_stopped_by_winch(shim):
    p = start_pid1(["sleep", "100"])
    try:
        init = ns_init_pid(p.pid)
        app = wait_for(lambda: children_of(init), what="app")[0]
        os.kill(app, signal.SIGSTOP)
        wait_for(lambda: proc_state(app) == "T", what="app stopped")
        os.kill(init, signal.SIGWINCH)
        time.sleep(0.3)
        assert proc_state(app) == "T"
        os.kill(init, signal.SIGINT)
        assert stop(p) == 130
    finally:
        if p.poll() is None:
            p.kill()


def test_idle_shim_never_wakes(shim):
    p = start_pid1(["sleep", "30"])
    try:
        init = ns_init_pid(p.pid)
        time.sleep(0.5)
        before = proc_status(init)
        time.sleep(3)
        after = proc_status(init)
        for k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            assert before[k] == after[k], (k, before[k], after[k])
    finally:
        p.kill()
        p.wait()
