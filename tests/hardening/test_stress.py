"""Everything at once, for a bounded time: thousands of orphans, a child
that forks and dies in a loop, a burst of signals, and telemetry on
against a receiver that keeps misbehaving."""
import os
import re
import signal
import subprocess
import threading
import time

from harness import LineReader, log_lines, ns_init_pid, pidns_cmd, wait_for
from telemetry_harness import embed, telemetry_env

ORPHANS = 3000
RT_BURST = 1000
STD_BURST = 200
CHURN = 1500


def namespace_procs(init):
    """(pid, state) of every process in the shim's PID namespace."""
    ns = os.readlink(f"/proc/{init}/ns/pid")
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{p}/ns/pid") != ns:
                continue
            with open(f"/proc/{p}/stat") as f:
                m = re.match(r"\d+ \(.*\) (\S)", f.read())
            out.append((int(p), m.group(1)))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return out


def test_everything_at_once(shim, helpers, receiver, tmp_path):
    rx = receiver(mode="fail-first:3")
    tshim = embed(tmp_path / "shim", rx.url)
    # Both background jobs are orphaned at once (their subshell exits), so
    # everything they leave is the init's to reap, not the app's.
    script = (f"(orphans {ORPHANS} 20 >/dev/null &); "
              f"((i=0; while [ $i -lt {CHURN} ]; do sh -c 'exit 0' & "
              f"i=$((i+1)); done; wait) &); "
              f"exec sigprint --exit-on 15")
    e = telemetry_env(tmp_path / "data",
                      SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0.0003)
    (tmp_path / "data").mkdir()
    p = subprocess.Popen(pidns_cmd(["-v", "sh", "-c", script], tshim), env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    err = []
    threading.Thread(target=lambda: err.append(p.stderr.read()),
                     daemon=True).start()
    try:
        lines = LineReader(p.stdout)
        lines.wait_for("ready", timeout=30)
        init = ns_init_pid(p.pid)
        # The receiver misbehaves in turn while all this goes on.
        modes = iter(["close", "status:500", "hang", "retry-after:1", "ok"])
        rt = signal.SIGRTMIN + 3
        for i in range(RT_BURST):
            os.kill(init, rt)
            if i < STD_BURST:
                os.kill(init, signal.SIGUSR1)
            if i % 200 == 0:
                rx.set_mode(next(modes, "ok"))
        # Real-time signals queue: every one must arrive.  Standard ones
        # merge while pending, so at least one must.
        lines.wait_for(lambda l: lines.seen.count(f"signal {rt}") ==
                       RT_BURST, timeout=60)
        assert f"signal {int(signal.SIGUSR1)}" in lines.seen
        # Once the orphans and the churn are done, no zombie is left: only
        # the shim and its app remain.
        try:
            wait_for(lambda: sorted(s for _, s in namespace_procs(init))
                     in (["S", "S"], ["R", "S"], ["S", "R"]),
                     timeout=120, interval=0.2, what="orphans and churn gone")
        except AssertionError:
            raise AssertionError(f"left: {namespace_procs(init)}") from None
        os.kill(init, signal.SIGTERM)
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    time.sleep(0.2)
    stderr = err[0] if err else ""
    exited, = log_lines(stderr, "child.exited")
    assert exited["exit_status"] == "0"
    # Every request the receiver got was well formed, whatever it answered.
    for r in rx.requests():
        assert r["verdict"] == "pass", r["checker"]
