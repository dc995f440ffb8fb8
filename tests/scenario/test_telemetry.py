"""Telemetry as PID 1 of a PID namespace, against a local Logfire stand-in."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from harness import (SHIM, LineReader, env, log_lines, ns_init_pid,
                     pidns_cmd, proc_status, sigset, wait_for)
from telemetry_harness import TOKEN, embed, make_pki, telemetry_env

LIFECYCLE = {"telemetry.disabled", "telemetry.reporter.initialized",
             "telemetry.token.missing", "telemetry.report.failed"}


def lifecycle(stderr):
    return [l for l in log_lines(stderr) if l["event"] in LIFECYCLE]


def run(shim, args, environ, timeout=60):
    return subprocess.run(pidns_cmd(args, shim), env=environ,
                          capture_output=True, text=True, timeout=timeout)


# --- Opt-in and the one lifecycle line ------------------------------------

@pytest.mark.parametrize("value,reason", [
    (None, "not_opted_in"), ("0", "not_opted_in"), ("false", "not_opted_in"),
    ("maybe", "invalid_opt_in"),
])
def test_disabled_by_default_one_line(shim, value, reason, tmp_path):
    e = env(SYNTHORG_DATA_DIR=tmp_path)
    if value is not None:
        e["SYNTHORG_TELEMETRY_ENABLED"] = value
    r = run(shim, ["sh", "-c", "exit 3"], e)
    assert r.returncode == 3
    line, = lifecycle(r.stderr)
    assert line["event"] == "telemetry.disabled"
    assert line["reason"] == reason
    assert line["level"] == "info"
    warnings = log_lines(r.stderr, "config.invalid")
    if reason == "invalid_opt_in":
        assert [w["variable"] for w in warnings] == ["SYNTHORG_TELEMETRY_ENABLED"]
    else:
        assert warnings == []
    assert list(tmp_path.iterdir()) == []


def test_lifecycle_line_shows_whatever_the_verbosity(shim):
    r = run(shim, ["true"], env(TINI_VERBOSITY=0))
    assert [l["event"] for l in log_lines(r.stderr)] == ["telemetry.disabled"]


def test_do_not_track_wins(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["true"], telemetry_env(tmp_path, DO_NOT_TRACK="1"))
    line, = lifecycle(r.stderr)
    assert (line["event"], line["reason"]) == ("telemetry.disabled",
                                               "do_not_track")
    time.sleep(0.5)
    assert rx.requests() == []


@pytest.mark.parametrize("value", ["2", "garbage", "\udcff"])
def test_do_not_track_fails_closed(shim, receiver, tmp_path, value):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    e = telemetry_env(tmp_path)
    e["DO_NOT_TRACK"] = value.encode("utf-8", "surrogateescape").decode(
        "utf-8", "surrogateescape")
    r = run(tshim, ["true"], e)
    line, = lifecycle(r.stderr)
    assert (line["event"], line["reason"]) == ("telemetry.disabled",
                                               "do_not_track")
    warn, = log_lines(r.stderr, "config.invalid")
    assert warn["variable"] == "DO_NOT_TRACK"
    time.sleep(0.3)
    assert rx.requests() == []


@pytest.mark.parametrize("tag,why", [
    ("/etc/passwd", "looks_like_path"), ("10.1.2.3", "looks_like_address"),
    ("db.example.com", "looks_like_address"), ("sk-live123", "looks_like_secret"),
    ("prod\nline", "control_character"),
])
def test_refused_environment_tag_warns_and_falls_back(shim, receiver,
                                                      tmp_path, tag, why):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["true"], telemetry_env(tmp_path, SYNTHORG_TELEMETRY_ENV=tag))
    warn, = log_lines(r.stderr, "config.invalid")
    assert (warn["variable"], warn["reason"]) == ("SYNTHORG_TELEMETRY_ENV",
                                                  why)
    assert {s["attributes"]["environment"] for s in rx.spans()} == {"dev"}
    assert [s["name"] for s in rx.spans()][-1] == "deployment.shutdown"


def test_heartbeat_faster_than_a_second_is_refused(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["sh", "-c", "sleep 1"], telemetry_env(
        tmp_path, SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0.000001))
    warn, = log_lines(r.stderr, "config.invalid")
    assert warn["variable"] == "SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS"
    assert "deployment.heartbeat" not in [s["name"] for s in rx.spans()]


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo", "empty"])
def test_unusable_ssl_cert_file_is_named_and_replaced(shim, receiver,
                                                      tmp_path, kind):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    path = tmp_path / "ca.pem"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "empty":
        path.write_text("")
    r = run(tshim, ["sh", "-c", "exit 3"],
            telemetry_env(tmp_path, SSL_CERT_FILE=path))
    assert r.returncode == 3
    warn, = log_lines(r.stderr, "config.invalid")
    assert warn["variable"] == "SSL_CERT_FILE"
    assert warn["using"] == "embedded_bundle"
    # Plain HTTP here: the embedded bundle took over and delivery worked.
    assert [s["name"] for s in rx.spans()][-1] == "deployment.shutdown"


def test_failed_delivery_names_its_cause(shim, receiver, tmp_path):
    pki = make_pki(tmp_path / "pki")
    rx = receiver(tls=pki)
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["true"], telemetry_env(
        tmp_path, SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS=1))
    causes = {l["error_type"] for l in
              log_lines(r.stderr, "telemetry.delivery.failed")}
    assert causes == {"tls"}, r.stderr


def test_build_without_token_says_so_once_and_sends_nothing(shim, receiver,
                                                            tmp_path):
    rx = receiver()
    data = tmp_path / "data"
    data.mkdir()
    r = run(shim, ["sh", "-c", "exit 4"], telemetry_env(data))
    assert r.returncode == 4
    line, = lifecycle(r.stderr)
    assert line["event"] == "telemetry.token.missing"
    assert line["level"] == "error"
    assert list(data.iterdir()) == []
    assert rx.requests() == []


def test_disabled_path_opens_no_socket_file_or_thread(shim, tmp_path):
    trace = tmp_path / "trace"
    r = subprocess.run(
        ["strace", "-f", "-qq", "-o", str(trace), "-e",
         "trace=execve,socket,connect,clone,clone3,open,openat,mkdir,stat,"
         "newfstatat",
         shim, "-s", "true"], env=env(SYNTHORG_DATA_DIR=tmp_path),
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = trace.read_text().splitlines()
    # The shim's pid is the one of the first execve: strace's own start.
    shim_pid = next(l.split()[0] for l in lines if "execve(" in l)
    own = [l for l in lines if l.split()[0] == shim_pid]
    calls = " ".join(own)
    assert "socket(" not in calls and "connect(" not in calls
    assert "CLONE_THREAD" not in calls
    # Its opens are the init's own: /dev/null for stdin and stdout, and
    # /proc should its drain ever look for leftovers; nothing of telemetry.
    opened = re.findall(r'open(?:at)?\([^"]*"([^"]+)"', calls)
    assert "/dev/null" in opened
    # (A dynamic build, the sanitizer one, also opens its libraries.)
    libs = ("/etc/ld.so.", "/lib/", "/usr/lib/", "/proc")
    assert [o for o in opened
            if o != "/dev/null" and not o.startswith(libs)] == [], opened


# --- Delivery ---------------------------------------------------------

def test_four_events_reach_the_receiver_in_order(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    data = tmp_path / "data"
    data.mkdir()
    e = telemetry_env(data, SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0.0004)
    p = subprocess.Popen(pidns_cmd(["sh", "-c", "trap 'exit 7' TERM; "
                                    "while :; do sleep 0.1; done"], tshim),
                         env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        rx.wait_spans(["deployment.startup", "deployment.heartbeat"])
        os.kill(ns_init_pid(p.pid), signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 7
    line, = lifecycle(err)
    assert line["event"] == "telemetry.reporter.initialized"
    names = [s["name"] for s in rx.spans()]
    assert names[0] == "deployment.startup"
    assert names[-2:] == ["deployment.session_summary", "deployment.shutdown"]
    assert set(names[1:-2]) == {"deployment.heartbeat"}
    # Summary and shutdown travel together, in one request.
    last = rx.requests()[-1]
    assert [s["name"] for s in last["spans"]] == names[-2:]
    rx.assert_all_checked()
    spans = {s["name"]: s["attributes"] for s in rx.spans()}
    ids = {a["deployment_id"] for a in spans.values()}
    assert len(ids) == 1
    assert (data / "telemetry_id").read_text().strip() == ids.pop()
    start = spans["deployment.startup"]
    assert start["init_pid1"] is True
    assert start["os_platform"] == "Linux"
    assert start["environment"] == "dev"
    end = spans["deployment.shutdown"]
    assert end["child_exit_code"] == 7 and end["shim_exit_status"] == 7
    assert end["graceful"] is True
    summary = spans["deployment.session_summary"]
    assert summary["signals_forwarded"] == 1
    assert spans["deployment.heartbeat"]["uptime_hours"] > 0
    # The token is in the Authorization header only, never in a log line.
    assert TOKEN not in err and TOKEN not in out


def test_resource_is_the_short_fixed_list(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    run(tshim, ["true"], telemetry_env(tmp_path, SYNTHORG_TELEMETRY_ENV="qa"))
    res = rx.spans()[0]["resource"]
    assert set(res) == {"service.name", "service.version",
                        "deployment.environment.name", "service.instance.id",
                        "os.type", "telemetry.sdk.name",
                        "telemetry.sdk.language", "telemetry.sdk.version"}
    assert res["service.name"] == "synthorg-shim"
    assert res["deployment.environment.name"] == "qa"
    rx.assert_all_checked()


@pytest.mark.parametrize("extra,want", [
    ({}, "dev"),
    ({"SYNTHORG_TELEMETRY_ENV_BAKED": "staging"}, "staging"),
    ({"SYNTHORG_TELEMETRY_ENV_BAKED": "staging", "GITLAB_CI": "1"}, "ci"),
    ({"RUNPOD_POD_ID": "x", "SYNTHORG_TELEMETRY_ENV": " prod "}, "prod"),
])
def test_environment_tag_chain(shim, receiver, tmp_path, extra, want):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    run(tshim, ["true"], telemetry_env(tmp_path, **extra))
    assert {s["attributes"]["environment"] for s in rx.spans()} == {want}


def test_https_verified_against_ssl_cert_file(shim, receiver, tmp_path):
    pki = make_pki(tmp_path / "pki")
    rx = receiver(tls=pki)
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["sh", "-c", "exit 5"],
            telemetry_env(tmp_path, SSL_CERT_FILE=pki["ca"]))
    assert r.returncode == 5
    assert [s["name"] for s in rx.spans()] == [
        "deployment.startup", "deployment.session_summary",
        "deployment.shutdown"]
    assert all(q["tls"] for q in rx.requests())
    rx.assert_all_checked()


def test_https_refuses_an_unknown_ca(shim, receiver, tmp_path):
    pki = make_pki(tmp_path / "pki")
    rx = receiver(tls=pki)
    tshim = embed(tmp_path / "shim", rx.url)
    # The embedded bundle does not know the test CA: verification fails,
    # nothing is delivered, and the app's status is untouched.
    r = run(tshim, ["sh", "-c", "exit 5"],
            telemetry_env(tmp_path, SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS=1))
    assert r.returncode == 5
    assert rx.spans() == []
    assert log_lines(r.stderr, "telemetry.delivery.failed")


def test_dry_run_prints_and_sends_nothing(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["sh", "-c", "exit 2"],
            telemetry_env(tmp_path, SYNTHORG_TELEMETRY_DRY_RUN="yes"))
    assert r.returncode == 2
    records = [l for l in r.stderr.splitlines()
               if "event=telemetry.dry_run" in l]
    kinds = [re.search(r"record=(\S+)", l).group(1) for l in records]
    assert kinds == ["resource", "deployment.startup",
                     "deployment.session_summary", "deployment.shutdown"]
    span = json.loads(records[1].split(" span=", 1)[1])
    assert span["name"] == "deployment.startup"
    time.sleep(0.3)
    assert rx.requests() == []
    assert TOKEN not in r.stderr


# --- The app's snapshot -----------------------------------------------

def test_snapshot_figures_merge_into_their_events(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps({"agent_count": 4, "team_count": 2,
                                "tasks_created": 9, "tasks_failed": 1}))
    run(tshim, ["sh", "-c", "sleep 2"],
        telemetry_env(tmp_path, SYNTHORG_TELEMETRY_SNAPSHOT=snap,
                      SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0.0003))
    spans = {}
    for s in rx.spans():
        spans.setdefault(s["name"], s["attributes"])
    hb = spans["deployment.heartbeat"]
    assert hb["agent_count"] == 4 and hb["team_count"] == 2
    assert "tasks_created" not in hb
    summary = spans["deployment.session_summary"]
    assert summary["tasks_created"] == 9 and summary["tasks_failed"] == 1
    assert "agent_count" not in summary
    rx.assert_all_checked()


def test_snapshot_with_unknown_key_drops_the_event_by_name(shim, receiver,
                                                           tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps({"tasks_created": 1, "hostname": "box-7"}))
    r = run(tshim, ["true"],
            telemetry_env(tmp_path, SYNTHORG_TELEMETRY_SNAPSHOT=snap))
    dropped = log_lines(r.stderr, "telemetry.event.dropped")
    assert {(d["event_type"], d["key"], d["reason"]) for d in dropped} == {
        ("deployment.session_summary", "hostname", "not_allowlisted")}
    names = [s["name"] for s in rx.spans()]
    assert "deployment.session_summary" not in names
    assert "deployment.shutdown" in names
    assert "box-7" not in json.dumps(rx.requests())


# --- The spool --------------------------------------------------------

def test_undelivered_events_wait_in_the_spool_for_next_boot(shim, receiver,
                                                            tmp_path):
    rx = receiver(mode="refuse")
    tshim = embed(tmp_path / "shim", rx.url)
    data = tmp_path / "data"
    data.mkdir()
    e = telemetry_env(data, SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS=1)
    r = run(tshim, ["sh", "-c", "exit 6"], e)
    assert r.returncode == 6
    spool = (data / "telemetry_spool").read_text().splitlines()
    assert [json.loads(l)["event"] for l in spool] == [
        "deployment.startup", "deployment.session_summary",
        "deployment.shutdown"]
    first_shutdown = json.loads(spool[2])["properties"]
    rx.set_mode("ok")
    time.sleep(0.3)
    r = run(tshim, ["sh", "-c", "exit 0"], e)
    names = [s["name"] for s in rx.spans()]
    assert names[:4] == ["deployment.startup", "deployment.session_summary",
                         "deployment.shutdown", "deployment.startup"]
    assert rx.spans()[2]["attributes"]["child_exit_code"] == \
        first_shutdown["child_exit_code"] == 6
    assert (data / "telemetry_spool").read_text() == ""
    rx.assert_all_checked()


def test_tampered_spool_goes_through_the_scrubber(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    data = tmp_path / "data"
    data.mkdir()
    now = time.time_ns()
    (data / "telemetry_spool").write_text(
        json.dumps({"v": 1, "event": "deployment.heartbeat",
                    "time_unix_nano": str(now - 10**9),
                    "properties": {"uptime_hours": 1.0,
                                   "api_key": "sk-123"}}) + "\n" +
        "not json\n")
    r = run(tshim, ["true"], telemetry_env(data))
    dropped, = log_lines(r.stderr, "telemetry.event.dropped")
    assert dropped["key"] == "api_key"
    assert log_lines(r.stderr, "telemetry.spool.skipped")[0]["lines"] == "1"
    assert "sk-123" not in json.dumps(rx.requests())


# --- Never in the init's way ------------------------------------------

def test_signals_flow_while_the_receiver_hangs(shim, receiver, tmp_path):
    rx = receiver(mode="hang")
    tshim = embed(tmp_path / "shim", rx.url)
    p = subprocess.Popen(pidns_cmd(["sigprint"], tshim),
                         env=telemetry_env(tmp_path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        lines = LineReader(p.stdout)
        lines.wait_for("ready")
        init = ns_init_pid(p.pid)
        wait_for(lambda: rx.requests(), what="a hanging request")
        for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGRTMIN + 2):
            os.kill(init, sig)
            lines.wait_for(f"signal {int(sig)}", timeout=2)
        start = time.monotonic()
        os.kill(init, signal.SIGTERM)
        assert p.wait(timeout=20) == 0
        # Grace (none left) + the 2 s budget, and not the hang.
        assert time.monotonic() - start < 6
    finally:
        if p.poll() is None:
            p.kill()


def test_only_the_init_thread_takes_signals(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    p = subprocess.Popen(pidns_cmd(["sleep", "30"], tshim),
                         env=telemetry_env(tmp_path),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        init = ns_init_pid(p.pid)
        rx.wait_spans(["deployment.startup"])
        tids = os.listdir(f"/proc/{init}/task")
        assert len(tids) == 2, tids
        everything = set(range(1, 65)) - {signal.SIGKILL, signal.SIGSTOP,
                                          32, 33, 34}
        by_name = {open(f"/proc/{init}/task/{t}/comm").read().strip(): t
                   for t in tids}
        tel = by_name.pop("shim-telemetry")
        main, = by_name.values()
        # The telemetry thread blocks every signal (but libc's own three)...
        st = proc_status(f"{init}/task/{tel}")
        assert sigset(st["SigBlk"]) >= everything, st["SigBlk"]
        # ...while the init thread waits for all of them in sigwaitinfo,
        # which the kernel shows as an empty mask for the wait's length.
        with open(f"/proc/{init}/task/{main}/wchan") as f:
            assert "sigtimedwait" in f.read()
    finally:
        p.kill()
        p.wait()


def test_child_starts_before_telemetry(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["-v", "true"], telemetry_env(tmp_path))
    events = [l["event"] for l in log_lines(r.stderr)]
    assert events.index("child.started") < \
        events.index("telemetry.reporter.initialized")


def test_data_dir_unwritable_falls_back_to_memory_id(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    r = run(tshim, ["true"], telemetry_env(tmp_path / "missing"))
    warn, = log_lines(r.stderr, "telemetry.deployment_id.unavailable")
    assert warn["using_generated_id"] == "true"
    assert warn["level"] == "warning"
    ids = {s["attributes"]["deployment_id"] for s in rx.spans()}
    assert len(ids) == 1 and re.fullmatch(r"[0-9a-f-]{36}", ids.pop())


def test_proxy_variables_are_honoured(shim, receiver, tmp_path):
    rx = receiver()
    tshim = embed(tmp_path / "shim", rx.url)
    proxy_log = tmp_path / "proxy.log"
    proxy = subprocess.Popen(["/usr/bin/python3",
                              os.path.join(os.path.dirname(__file__),
                                           "tiny_proxy.py"),
                              str(tmp_path / "proxy.port"), str(proxy_log)])
    try:
        wait_for(lambda: (tmp_path / "proxy.port").exists(), what="proxy")
        port = (tmp_path / "proxy.port").read_text().strip()
        r = run(tshim, ["true"], telemetry_env(
            tmp_path, http_proxy=f"http://127.0.0.1:{port}"))
        assert r.returncode == 0
        assert [s["name"] for s in rx.spans()][-1] == "deployment.shutdown"
        seen = proxy_log.read_text()
        assert f"POST {rx.url}/v1/traces" in seen
    finally:
        proxy.terminate()
        proxy.wait()
