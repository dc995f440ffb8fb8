"""Reaping, the drain of leftovers, descriptors, subreaper and terminal."""
import os
import re
import signal
import subprocess
import time

from harness import (SHIM, UNSHARE, LineReader, Pty, children_of, env, log_lines,
                     ns_init_pid, parse_probe, proc_state, run_pid1,
                     start_pid1, wait_for)


def stat_table(text):
    """(pid, comm, state, ppid) rows from `cat /proc/[0-9]*/stat` output."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"(\d+) \((.*)\) (\S) (\d+)", line)
        if m:
            rows.append((int(m.group(1)), m.group(2), m.group(3),
                         int(m.group(4))))
    return rows


def test_orphans_are_reaped_and_nothing_lingers(shim, helpers):
    r = run_pid1(["-w", "sh", "-c",
                  "orphans 200 0 && sleep 0.5 && cat /proc/[0-9]*/stat"])
    assert r.returncode == 0, r.stderr
    rows = stat_table(r.stdout)
    assert [row for row in rows if row[2] == "Z"] == []
    # Only the shim and the app's shell (the glob was expanded before cat).
    assert sorted(row[1] for row in rows) == ["sh", "synthorg-shim"]
    reaped = log_lines(r.stderr, "zombie.reaped")
    # 200 orphans, plus the processes sh started and reaped itself: none
    # of those come to the shim.
    assert len(reaped) == 200


def test_reaping_is_silent_without_dash_w(shim, helpers):
    r = run_pid1(["sh", "-c", "orphans 20 0; sleep 0.2"])
    assert r.returncode == 0
    assert log_lines(r.stderr, "zombie.reaped") == []


def test_no_leftovers_no_drain(shim):
    r = run_pid1(["-v", "sh", "-c", "exit 5"])
    assert r.returncode == 5
    assert log_lines(r.stderr, "drain.started") == []
    assert log_lines(r.stderr, "drain.killed") == []


def test_leftovers_get_sigterm_and_their_grace(shim, tmp_path):
    marker = tmp_path / "drained"
    script = (f"(trap 'echo done > {marker}; exit 0' TERM; "
              f"while :; do sleep 0.05; done) & sleep 0.2; exit 5")
    r = run_pid1(["-v", "sh", "-c", script],
                 environ=env(SYNTHORG_SHIM_GRACE_SECONDS=10))
    assert r.returncode == 5, r.stderr
    assert marker.read_text() == "done\n"
    fin, = log_lines(r.stderr, "drain.finished")
    assert fin["ended"] == "1"
    assert int(fin["elapsed_ms"]) < 10000
    assert log_lines(r.stderr, "drain.killed") == []


def test_stubborn_leftovers_get_sigkill_after_grace(shim):
    script = "(trap '' TERM; sleep 100) & sleep 0.2; exit 6"
    r = run_pid1(["-v", "sh", "-c", script],
                 environ=env(SYNTHORG_SHIM_GRACE_SECONDS=0.5))
    assert r.returncode == 6
    fin, = log_lines(r.stderr, "drain.finished")
    assert int(fin["elapsed_ms"]) >= 500
    killed, = log_lines(r.stderr, "drain.killed")
    assert killed["count"] == "1"


def test_grace_zero_kills_at_once(shim):
    script = "(trap '' TERM; sleep 100) & sleep 0.2; exit 6"
    r = run_pid1(["-v", "sh", "-c", script],
                 environ=env(SYNTHORG_SHIM_GRACE_SECONDS=0))
    assert r.returncode == 6
    assert log_lines(r.stderr, "drain.started") == []
    killed, = log_lines(r.stderr, "drain.killed")
    assert killed["count"] == "1"


def test_child_gets_no_descriptor_of_the_shim(shim, helpers):
    r_fd, w_fd = os.pipe()
    try:
        r = subprocess.run(
            UNSHARE + [SHIM,
             "probe"], env=env(), capture_output=True, text=True,
            pass_fds=(w_fd,), timeout=20)
    finally:
        os.close(r_fd)
        os.close(w_fd)
    fds = set(parse_probe(r.stdout)["fds"].split(","))
    # The caller's descriptor is the child's to inherit; nothing else.
    assert fds == {"0", "1", "2", str(w_fd)}


def test_shim_keeps_no_inherited_descriptor(shim):
    r_fd, w_fd = os.pipe()
    p = subprocess.Popen(UNSHARE + [
                          SHIM, "sleep", "30"], env=env(),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, pass_fds=(w_fd,))
    try:
        os.close(w_fd)
        init = ns_init_pid(p.pid)
        wait_for(lambda: children_of(init), what="app")
        time.sleep(0.1)
        fds = {int(f): os.readlink(f"/proc/{init}/fd/{f}")
               for f in os.listdir(f"/proc/{init}/fd")}
        assert set(fds) == {0, 1, 2}, fds
        assert fds[0] == "/dev/null" and fds[1] == "/dev/null"
    finally:
        p.kill()
        p.wait()
        os.close(r_fd)


def test_pipe_reader_sees_eof_when_the_app_closes(shim):
    # Not under unshare, whose waiting parent would hold the pipe itself:
    # what matters is that the shim lets go of its copy.
    p = subprocess.Popen([SHIM, "-s", "sh", "-c",
                          "echo hello; exec >&-; sleep 5"],
                         env=env(), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        out = p.stdout.read()      # returns at EOF
        assert out == b"hello\n"
        # EOF came while the app was still running.
        assert p.poll() is None
    finally:
        p.kill()
        p.wait()


def test_listen_pid_names_the_child(shim, helpers):
    r = run_pid1(["probe"], environ=env(LISTEN_PID=1, LISTEN_FDS=0))
    pr = parse_probe(r.stdout)
    assert pr["listen_pid"] == pr["pid"] == "2"
    r = run_pid1(["probe"], environ=env(LISTEN_PID=77))
    assert parse_probe(r.stdout)["listen_pid"] == "77"


def test_not_pid1_warns_without_subreaper(shim):
    r = subprocess.run([SHIM, "true"], env=env(), capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0
    assert len(log_lines(r.stderr, "reaper.inactive")) == 1
    for opt, e in ((["-s"], env()), ([], env(TINI_SUBREAPER=""))):
        r = subprocess.run([SHIM] + opt + ["true"], env=e,
                           capture_output=True, text=True, timeout=10)
        assert log_lines(r.stderr, "reaper.inactive") == [], r.stderr


def test_subreaper_reaps_orphans_when_not_pid1(shim, helpers):
    p = subprocess.Popen([SHIM, "-s", "-w", "sh", "-c",
                          "orphans 3 300; sleep 1"], env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    # While they linger, the orphans' parent is the shim.
    wait_for(lambda: len(children_of(p.pid)) == 4, what="orphans adopted")
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0
    assert len(log_lines(err, "zombie.reaped")) == 3


def test_subreaper_drains_only_its_own_descendants(shim, tmp_path):
    outsider = subprocess.Popen(["sleep", "30"])
    try:
        r = subprocess.run([SHIM, "-s", "-v", "sh", "-c",
                            "sleep 30 & sleep 0.1; exit 3"], env=env(),
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 3
        fin, = log_lines(r.stderr, "drain.finished")
        assert fin["ended"] == "1"
        assert outsider.poll() is None
    finally:
        outsider.kill()
        outsider.wait()


def test_parent_death_signal(shim, helpers, tmp_path):
    out = tmp_path / "out"
    # The shim's parent, a shell, exits at once; -p turns that into SIGUSR1.
    subprocess.run(["sh", "-c",
                    f"{SHIM} -s -p SIGUSR1 sigprint --exit-on 10 > {out} 2>&1 &"
                    " sleep 0.3"], env=env(), timeout=10)
    wait_for(lambda: out.exists() and "signal 10" in out.read_text(),
             what="SIGUSR1 forwarded after the parent died")




def test_ctrl_c_ctrl_z_ctrl_backslash_reach_the_app(shim, helpers):
    t = Pty(UNSHARE + [SHIM, "sigprint", "--exit-on", "15"], env())
    try:
        t.expect(b"ready")
        for key, sig in ((b"\x03", 2), (b"\x1a", 20), (b"\x1c", 3)):
            t.send(key)
            t.expect(b"signal %d" % sig)
        os.kill(ns_init_pid(t.pid), signal.SIGTERM)
        t.expect(b"signal 15")
        assert t.wait() == 0
    finally:
        t.close()


def test_shell_job_control_on_a_terminal(shim):
    t = Pty(UNSHARE + [SHIM, "/bin/busybox", "sh", "-i"], env(PS1="$ "))
    try:
        t.expect(b"$ ")
        t.send(b"sleep 30\n")
        time.sleep(0.3)
        t.send(b"\x1a")                  # Ctrl-Z stops the job
        t.expect(b"Stopped")
        t.send(b"jobs\n")
        t.expect(b"[1]+")
        t.send(b"fg\n")                  # the job gets the terminal back
        time.sleep(0.3)
        t.send(b"\x03")                  # and Ctrl-C reaches it there
        t.send(b"echo job-$((40+2)) $?\n")
        t.expect(b"job-42 130")
        t.send(b"exit 4\n")
        assert t.wait() == 4
    finally:
        t.close()
