"""Exit statuses, exec failures, usage: the shim as PID 1 of a PID namespace."""
import re
import subprocess

import pytest

from harness import SHIM, env, log_lines, run_pid1


def test_every_exit_code_passes_through(shim):
    for code in range(256):
        r = run_pid1(["sh", "-c", f"exit {code}"])
        assert r.returncode == code, (code, r.stderr)


@pytest.mark.parametrize("sig", [1, 2, 3, 6, 9, 10, 11, 15, 31])
def test_death_by_signal_is_128_plus_n(shim, sig):
    r = run_pid1(["sh", "-c", f"kill -{sig} $$"])
    assert r.returncode == 128 + sig, r.stderr
    line, = [l for l in log_lines(r.stderr) if l["event"] in
             ("child.killed", "child.exited")]
    assert line["event"] == "child.killed"
    assert line["exit_status"] == str(128 + sig)


def test_sigkill_line_answers_the_oom_question(shim):
    r = run_pid1(["sh", "-c", "kill -KILL $$"])
    assert r.returncode == 137
    line, = log_lines(r.stderr, "child.killed")
    assert line["signal"] == "SIGKILL"
    # Not an OOM kill; "unknown" only where no memory cgroup is readable.
    assert line["oom_killed"] in ("false", "unknown")


def test_remaps_apply_after_128_plus_n(shim):
    assert run_pid1(["-e", "143", "sh", "-c", "kill -TERM $$"]).returncode == 0
    assert run_pid1(["-e", "3", "sh", "-c", "exit 3"]).returncode == 0
    assert run_pid1(["-e", "3", "-e", "4", "sh", "-c", "exit 4"]).returncode == 0
    assert run_pid1(["-e", "3", "sh", "-c", "exit 5"]).returncode == 5
    assert run_pid1(["-e143", "sh", "-c", "kill -INT $$"]).returncode == 130


def test_missing_command_is_127_with_one_line(shim):
    r = run_pid1(["/nonexistent/app", "arg"])
    assert r.returncode == 127
    assert r.stdout == ""
    # One error line, and the boot's telemetry lifecycle line.
    events = [(l["level"], l["event"]) for l in log_lines(r.stderr)]
    assert events == [("error", "exec.failed"),
                      ("info", "telemetry.disabled")], r.stderr
    f, = log_lines(r.stderr, "exec.failed")
    assert f["command"] == "/nonexistent/app"


def test_command_not_on_path_is_127(shim):
    assert run_pid1(["no-such-program-anywhere"]).returncode == 127


def test_directory_is_126(shim, tmp_path):
    r = run_pid1([str(tmp_path)])
    assert r.returncode == 126
    assert [l["level"] for l in log_lines(r.stderr)] == ["error", "info"]


def test_script_without_shebang_runs_through_sh(shim, tmp_path):
    # As with glibc's execvp and tini: a drop-in must start such apps.
    script = tmp_path / "app"
    script.write_text('echo "ran $1"\nexit 5\n')
    script.chmod(0o755)
    r = run_pid1([str(script), "arg"])
    assert r.returncode == 5
    assert r.stdout == "ran arg\n"
    r = run_pid1(["app", "x"], environ=env(PATH=f"{tmp_path}:/bin:/usr/bin"))
    assert r.returncode == 5 and r.stdout == "ran x\n"


def test_app_not_started_still_gets_the_lifecycle_line(shim):
    r = run_pid1(["/nonexistent"], environ=env(SYNTHORG_TELEMETRY_ENABLED=1))
    line, = log_lines(r.stderr, "telemetry.disabled")
    assert line["reason"] == "app_not_started"


def test_file_without_exec_bit_is_126(shim, tmp_path):
    f = tmp_path / "app"
    f.write_text("#!/bin/sh\nexit 0\n")
    f.chmod(0o644)
    assert run_pid1([str(f)]).returncode == 126


def test_exec_failure_remapped_too(shim):
    assert run_pid1(["-e", "127", "/nonexistent"]).returncode == 0


@pytest.mark.parametrize("args,needle", [
    ([], "no command"),
    (["-x", "true"], "-x"),
    (["--bogus", "true"], "--bogus"),
    (["-e", "256", "true"], "256"),
    (["-e", "abc", "true"], "abc"),
    (["-p", "SIGNOPE", "true"], "SIGNOPE"),
    (["-e"], "missing value"),
    (["--version", "true"], "--version"),
])
def test_usage_error_is_one_line_and_status_2(shim, args, needle):
    r = subprocess.run([SHIM] + args, env=env(), capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert needle in r.stderr


def test_version_line_is_what_docker_parses(shim):
    r = subprocess.run([SHIM, "--version"], env=env(), capture_output=True,
                       text=True)
    assert r.returncode == 0
    out = r.stdout.splitlines()
    assert len(out) == 1
    # Docker's init-path check takes what follows "tini version " up to an
    # optional " - git.COMMIT".
    m = re.fullmatch(r"tini version (\d+\.\d+\.\d+)( - git\.[0-9a-f]+)?",
                     out[0])
    assert m, out[0]


def test_help_and_license_on_stdout(shim):
    for opt, needle in (("-h", "usage: synthorg-shim"), ("-l", "MIT")):
        r = subprocess.run([SHIM, opt], env=env(), capture_output=True,
                           text=True)
        assert r.returncode == 0
        assert needle in r.stdout
        assert r.stderr == ""


def test_sh_c_without_double_dash(shim):
    r = run_pid1(["sh", "-c", 'echo "$0|$1|$2"; exit 7', "zero", "-v", "-e"])
    assert r.returncode == 7
    assert r.stdout == "zero|-v|-e\n"


def test_double_dash_and_options(shim):
    r = run_pid1(["-v", "--", "sh", "-c", "echo hi"])
    assert r.returncode == 0 and r.stdout == "hi\n"
    assert log_lines(r.stderr, "child.started")


def test_logs_never_reach_stdout(shim):
    r = run_pid1(["-vvv", "sh", "-c", "echo out; echo err >&2; exit 1"])
    assert r.stdout == "out\n"
    assert "err" in r.stderr


def test_verbosity_follows_tini(shim):
    # The telemetry lifecycle line is printed whatever the verbosity.
    quiet = run_pid1(["sh", "-c", "exit 0"], environ=env(TINI_VERBOSITY=0))
    assert [l["event"] for l in log_lines(quiet.stderr)] == [
        "telemetry.disabled"]
    default = run_pid1(["sh", "-c", "exit 0"])
    events = [l["event"] for l in log_lines(default.stderr)]
    assert events == ["telemetry.disabled", "child.exited"], default.stderr
    loud = run_pid1(["-v", "sh", "-c", "exit 0"])
    events = [l["event"] for l in log_lines(loud.stderr)]
    assert "child.started" in events and "child.exited" in events
    bad = run_pid1(["sh", "-c", "exit 0"], environ=env(TINI_VERBOSITY="loud"))
    warn, = log_lines(bad.stderr, "config.invalid")
    assert warn["variable"] == "TINI_VERBOSITY"
    assert bad.returncode == 0


def test_invalid_grace_warns_once_and_app_runs(shim):
    r = run_pid1(["sh", "-c", "exit 4"],
                 environ=env(SYNTHORG_SHIM_GRACE_SECONDS="soon"))
    assert r.returncode == 4
    warn, = log_lines(r.stderr, "config.invalid")
    assert warn["variable"] == "SYNTHORG_SHIM_GRACE_SECONDS"
