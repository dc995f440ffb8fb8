"""Telemetry from a real container (network host, receiver on loopback)."""
import concurrent.futures
import time

import pytest

from harness import log_lines
from telemetry_harness import TOKEN

APP = ["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done"]


def start(docker, image, name, extra=(), args=APP):
    docker.run(["run", "-d", "--name", name, "--network", "host",
                "-e", "SYNTHORG_TELEMETRY_ENABLED=1", *extra, image, *args])


def stop_timed(docker, name):
    """docker stop with a long timeout; returns (exit code, seconds)."""
    t0 = time.monotonic()
    docker.run(["stop", "-t", "60", name], timeout=120)
    return (int(docker.inspect(name, "{{.State.ExitCode}}")),
            time.monotonic() - t0)


def test_four_events_across_a_run_and_docker_stop(docker, telemetry_image,
                                                  receiver, containers):
    rx = receiver()
    image = telemetry_image(rx.url)
    c = containers()
    start(docker, image, c, ["-e",
                             "SYNTHORG_TELEMETRY_HEARTBEAT_INTERVAL_HOURS=0.0003"])
    rx.wait_spans(["deployment.startup", "deployment.heartbeat"], timeout=30)
    code, took = stop_timed(docker, c)
    assert code == 3
    names = [s["name"] for s in rx.spans()]
    assert names[0] == "deployment.startup"
    assert names[-2:] == ["deployment.session_summary", "deployment.shutdown"]
    end = rx.spans()[-1]["attributes"]
    assert end["child_exit_code"] == 3 and end["graceful"] is True
    rx.assert_all_checked()
    _, err = docker.logs(c)
    assert TOKEN not in err


# Each fault of the receiver; the container must still stop within the
# grace (nothing left to drain: 0 s) plus the 2 s budget, with the app's
# status.  The bound leaves room for docker's own stop bookkeeping.
FAULTS = ["refuse", "hang", "slow:20", "status:500", "retry-after:30",
          "status:400", "status:401", "close", "status:503"]


@pytest.mark.parametrize("mode", FAULTS)
def test_every_receiver_fault_leaves_stop_within_budget(docker,
                                                        telemetry_image,
                                                        receiver, containers,
                                                        mode):
    rx = receiver(mode=mode)
    image = telemetry_image(rx.url)
    c = containers()
    start(docker, image, c)
    time.sleep(1.5)
    code, took = stop_timed(docker, c)
    assert code == 3
    assert took < 2 + 3, f"{mode}: docker stop took {took:.1f}s"
    _, err = docker.logs(c)
    assert log_lines(err, "telemetry.reporter.initialized")
    # Nothing was delivered, so nothing is in the receiver's 200 list.
    if mode not in ("slow:20",):
        assert rx.spans() == []


def test_retries_reach_a_receiver_that_recovers(docker, telemetry_image,
                                                receiver, containers):
    rx = receiver(mode="fail-first:2")
    image = telemetry_image(rx.url)
    c = containers()
    start(docker, image, c)
    rx.wait_spans(["deployment.startup"], timeout=30)
    statuses = [r["status"] for r in rx.requests()]
    assert statuses == [503, 503, 200]
    code, _ = stop_timed(docker, c)
    assert code == 3
    assert [s["name"] for s in rx.spans()][-1] == "deployment.shutdown"
    rx.assert_all_checked()


def test_replicas_on_one_volume_converge_on_one_id(docker, telemetry_image,
                                                   receiver, containers):
    rx = receiver()
    image = telemetry_image(rx.url)
    vol = f"shimtest-data-{int(time.time() * 1000)}"
    docker.run(["volume", "create", vol])
    names = [containers() for _ in range(6)]
    try:
        with concurrent.futures.ThreadPoolExecutor(len(names)) as ex:
            list(ex.map(lambda n: start(docker, image, n,
                                        ["-v", f"{vol}:/data"],
                                        ["sh", "-c", "exit 0"]), names))
        for n in names:
            docker.wait_exit(n)
        # Delivery is at least once: a batch cut short by the app's exit is
        # sent again with the same span ids.  Count distinct spans.
        starts = {s["span_id"]: s for s in rx.spans()
                  if s["name"] == "deployment.startup"}
        assert len(starts) == len(names)
        ids = {s["attributes"]["deployment_id"] for s in starts.values()}
        assert len(ids) == 1, ids
        errs = "".join(docker.logs(n)[1] for n in names)
        assert "using_generated_id" not in errs
    finally:
        for n in names:
            docker.run(["rm", "-f", n], check=False)
        docker.run(["volume", "rm", "-f", vol], check=False)


def test_no_token_in_a_container_sends_nothing(docker, image, receiver,
                                               containers):
    rx = receiver()
    c = containers()
    r = docker.run(["run", "--name", c, "--network", "host",
                    "-e", "SYNTHORG_TELEMETRY_ENABLED=1", image,
                    "sh", "-c", "exit 8"], check=False)
    assert r.returncode == 8
    line, = log_lines(r.stderr, "telemetry.token.missing")
    assert line["level"] == "error"
    assert rx.requests() == []
