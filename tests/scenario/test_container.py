"""The shim as the ENTRYPOINT of a real container on the local daemon."""
import time

from harness import (DOCKER, Pty, children_of, env, log_lines, proc_state,
                     wait_for)


def run_detached(docker, image, name, args, extra=()):
    docker.run(["run", "-d", "--name", name, "--network", "none",
                *extra, image] + list(args))


def wait_log(docker, name, text, timeout=20):
    return wait_for(lambda: text in "".join(docker.logs(name)),
                    timeout=timeout, what=f"{text!r} in logs of {name}")


def test_docker_stop_reaches_the_app(docker, image, containers):
    c = containers()
    run_detached(docker, image, c, ["sigprint"])
    wait_log(docker, c, "ready")
    # A 60 s timeout: had the signal not arrived, docker would SIGKILL the
    # shim at the end of it and report 137.
    docker.run(["stop", "-t", "60", c], timeout=90)
    assert docker.inspect(c, "{{.State.ExitCode}}") == "0"
    out, _ = docker.logs(c)
    assert "signal 15" in out


def test_docker_stop_ends_a_stopped_app(docker, image, containers):
    c = containers()
    run_detached(docker, image, c, ["sleep", "1000"])
    shim_pid = docker.host_pid(c)
    app = wait_for(lambda: children_of(shim_pid), what="app")[0]
    docker.run(["kill", "-s", "TSTP", c])
    wait_for(lambda: proc_state(app) == "T", what="app stopped")
    docker.run(["stop", "-t", "60", c], timeout=90)
    assert docker.inspect(c, "{{.State.ExitCode}}") == "143"


def test_docker_kill_forwards_any_signal(docker, image, containers):
    c = containers()
    run_detached(docker, image, c, ["sigprint", "--exit-on", "10"])
    wait_log(docker, c, "ready")
    for name, num in (("HUP", 1), ("SEGV", 11), ("ABRT", 6),
                      ("RTMIN+3", 37), ("WINCH", 28), ("USR1", 10)):
        docker.run(["kill", "-s", name, c])
        wait_log(docker, c, f"signal {num}")
    assert docker.wait_exit(c) == 0


def test_exit_status_and_remap_in_a_container(docker, image, containers):
    c = containers()
    r = docker.run(["run", "--name", c, "--network", "none", image,
                    "sh", "-c", "exit 42"], check=False)
    assert r.returncode == 42
    c2 = containers()
    r = docker.run(["run", "--name", c2, "--network", "none",
                    "--entrypoint", "/sbin/synthorg-shim", image,
                    "-e", "143", "sh", "-c", "kill $$"], check=False)
    assert r.returncode == 0


def test_missing_command_in_a_container(docker, image, containers):
    c = containers()
    r = docker.run(["run", "--name", c, "--network", "none", image,
                    "no-such-app"], check=False)
    assert r.returncode == 127
    assert len(log_lines(r.stderr, "exec.failed")) == 1


def test_docker_exec_orphans_are_reaped(docker, image, containers):
    c = containers()
    run_detached(docker, image, c, ["sleep", "1000"])
    # Each exec'd shell leaves a sleep behind; as the container's PID 1 the
    # shim inherits and reaps it.
    for _ in range(5):
        docker.run(["exec", c, "sh", "-c", "sleep 0.2 & exit 0"])
    time.sleep(1)
    ps = docker.run(["exec", c, "ps", "-o", "pid,stat,comm"]).stdout
    rows = [l.split() for l in ps.splitlines()[1:]]
    assert [r for r in rows if r[1].startswith("Z")] == [], ps
    names = sorted(r[2] for r in rows if r[2] != "ps")
    assert names == ["sleep", "synthorg-shim"], ps


def test_oom_kill_is_named(docker, image, containers):
    c = containers()
    r = docker.run(["run", "--name", c, "--network", "none",
                    "--memory", "32m", "--memory-swap", "32m", image,
                    "memhog"], check=False, timeout=120)
    assert r.returncode == 137, r.stderr
    line, = log_lines(r.stderr, "child.killed")
    assert line["signal"] == "SIGKILL"
    assert line["oom_killed"] == "true", r.stderr


def test_sigkill_without_oom_says_so(docker, image, containers):
    c = containers()
    r = docker.run(["run", "--name", c, "--network", "none",
                    "--memory", "256m", image, "sh", "-c", "kill -9 $$"],
                   check=False)
    assert r.returncode == 137
    line, = log_lines(r.stderr, "child.killed")
    assert line["oom_killed"] == "false", r.stderr


def test_leftovers_drained_on_docker_stop(docker, image, containers):
    c = containers()
    script = ("(trap 'echo leftover-done; exit 0' TERM; "
              "while :; do sleep 0.1; done) & exec sigprint")
    run_detached(docker, image, c, ["sh", "-c", script],
                 extra=["-e", "TINI_VERBOSITY=2"])
    wait_log(docker, c, "ready")
    docker.run(["stop", "-t", "60", c], timeout=90)
    assert docker.inspect(c, "{{.State.ExitCode}}") == "0"
    out, err = docker.logs(c)
    assert "leftover-done" in out
    fin, = log_lines(err, "drain.finished")
    assert fin["ended"] == "1"


def docker_tty(image, args, extra=()):
    return Pty([DOCKER, "run", "-it", "--rm", "--network", "none", *extra,
                image] + list(args), env())


def test_docker_run_it_ctrl_c_reaches_the_app(docker, image):
    t = docker_tty(image, ["sigprint", "--exit-on", "2"])
    try:
        t.expect(b"ready", timeout=30)
        t.send(b"\x03")
        t.expect(b"signal 2")
        assert t.wait(timeout=30) == 0
    finally:
        t.close()


def test_docker_run_it_shell_job_control(docker, image):
    t = docker_tty(image, ["sh", "-i"], extra=["-e", "PS1=$ "])
    try:
        t.expect(b"$ ", timeout=30)
        t.send(b"sleep 30\n")
        time.sleep(0.5)
        t.send(b"\x1a")
        t.expect(b"Stopped")
        t.send(b"fg\n")
        time.sleep(0.5)
        t.send(b"\x03")
        t.send(b"echo job-$((40+2)) $?\n")
        t.expect(b"job-42 130")
        t.send(b"exit 3\n")
        assert t.wait(timeout=30) == 3
    finally:
        t.close()


def test_docker_run_it_ctrl_z_does_not_wedge_pid1(docker, image, containers):
    c = containers()
    t = docker_tty(image, ["sleep", "1000"], extra=["--name", c])
    try:
        shim_pid = wait_for(lambda: docker.run(
            ["inspect", "-f", "{{.State.Pid}}", c], check=False).stdout.strip()
            not in ("", "0") and docker.host_pid(c), timeout=30)
        app = wait_for(lambda: children_of(shim_pid), what="app")[0]
        t.send(b"\x1a")                  # Ctrl-Z: the app stops...
        wait_for(lambda: proc_state(app) == "T", what="app stopped")
        assert proc_state(shim_pid) == "S"  # ...PID 1 does not
        docker.run(["stop", "-t", "60", c], timeout=90)
        assert t.wait(timeout=30) == 143
    finally:
        t.close()
