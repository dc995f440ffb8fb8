"""The Docker enrichment and the telemetry thread's sandbox, with the real
daemon and with sockets that fail in every way the probe names."""
import json
import os
import subprocess
import time

import pytest

from harness import DOCKER, log_lines, proc_status, wait_for

HERE = os.path.dirname(__file__)
SOCK = "/var/run/docker.sock"
PROFILE = os.path.join(HERE, "..", "..", "docker", "seccomp.json")
# Dry-run shows the startup record without a receiver; the build still
# needs a token, and the base URL is never dialled.
NOWHERE = "http://127.0.0.1:9"


def startup_record(stderr):
    for line in stderr.splitlines():
        if "record=deployment.startup span=" in line:
            span = json.loads(line.split(" span=", 1)[1])
            out = {}
            for kv in span["attributes"]:
                (kind, v), = kv["value"].items()
                out[kv["key"]] = int(v) if kind == "intValue" else v
            return out
    raise AssertionError("no startup record in:\n" + stderr)


def probe_in_container(docker, image, name, extra=(), args=("true",)):
    r = docker.run(["run", "--name", name, "--network", "none",
                    "-e", "SYNTHORG_TELEMETRY_ENABLED=1",
                    "-e", "SYNTHORG_TELEMETRY_DRY_RUN=1", *extra, image,
                    *args], check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    return startup_record(r.stderr), r.stderr


def host_info():
    out = subprocess.run([DOCKER, "info", "--format", "{{json .}}"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.fixture
def fake_socket(tmp_path):
    """Factory: a failing stand-in socket, and the request lines it saw."""
    procs = []

    def start(mode):
        path = tmp_path / f"{mode}.sock"
        log = tmp_path / f"{mode}.log"
        log.write_text("")
        p = subprocess.Popen(["/usr/bin/python3",
                              os.path.join(HERE, "fake_docker.py"), mode,
                              str(path), str(log)])
        procs.append(p)
        wait_for(lambda: path.exists(), what=f"{mode} socket")
        return str(path), log

    yield start
    for p in procs:
        p.terminate()
        p.wait()


def test_socket_mounted_reports_what_docker_info_says(docker, telemetry_image,
                                                      containers):
    image = telemetry_image(NOWHERE)
    rec, _ = probe_in_container(docker, image, containers(),
                                ["-v", f"{SOCK}:{SOCK}"])
    info = host_info()
    assert rec["docker_info_available"] is True
    want = {
        "docker_server_version": info["ServerVersion"],
        "docker_operating_system": info["OperatingSystem"],
        "docker_os_type": info["OSType"],
        "docker_os_version": info["OSVersion"],
        "docker_architecture": info["Architecture"],
        "docker_kernel_version": info["KernelVersion"],
        "docker_storage_driver": info["Driver"],
        "docker_default_runtime": info["DefaultRuntime"],
        "docker_isolation": info["Isolation"],
        "docker_ncpu": info["NCPU"],
        "docker_mem_total": info["MemTotal"],
        "docker_gpu_runtime_nvidia_available": "nvidia" in info["Runtimes"],
    }
    for k, v in want.items():
        if isinstance(v, str):
            v = v[:64]
        assert rec[k] == v, k
    docker_keys = {k for k in rec if k.startswith("docker_")}
    assert docker_keys == set(want) | {"docker_info_available"}
    # Nothing that names the host, its paths or its containers.
    text = json.dumps(rec)
    for secret in (info["Name"], info["ID"], info["DockerRootDir"]):
        assert secret not in text


def test_no_socket_means_socket_not_mounted(docker, telemetry_image,
                                            containers):
    rec, _ = probe_in_container(docker, telemetry_image(NOWHERE), containers())
    assert rec["docker_info_available"] is False
    assert rec["docker_info_unavailable_reason"] == "socket_not_mounted"
    assert not [k for k in rec if k.startswith("docker_")
                and k not in ("docker_info_available",
                              "docker_info_unavailable_reason")]


def test_hardened_non_root_container_reads_the_socket(docker, telemetry_image,
                                                      containers):
    gid = os.stat(SOCK).st_gid
    rec, err = probe_in_container(
        docker, telemetry_image(NOWHERE), containers(),
        ["-v", f"{SOCK}:{SOCK}:ro", "--user", "10001:10001",
         "--group-add", str(gid), "--read-only", "--cap-drop", "ALL",
         "--security-opt", "no-new-privileges:true",
         "--security-opt", f"seccomp={PROFILE}",
         "--tmpfs", "/data:uid=10001,gid=10001"])
    assert rec["docker_info_available"] is True
    assert log_lines(err, "telemetry.deployment_id.unavailable") == []


def test_non_root_without_the_group_is_denied(docker, telemetry_image,
                                              containers):
    rec, _ = probe_in_container(
        docker, telemetry_image(NOWHERE), containers(),
        ["-v", f"{SOCK}:{SOCK}:ro", "--user", "10001:10001",
         "--cap-drop", "ALL"])
    assert rec["docker_info_unavailable_reason"] == "permission_denied"


def test_regular_file_and_fifo_are_not_sockets(docker, telemetry_image,
                                               containers, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("{}")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (plain, fifo):
        rec, _ = probe_in_container(docker, telemetry_image(NOWHERE),
                                    containers(), ["-v", f"{path}:{SOCK}"])
        assert rec["docker_info_unavailable_reason"] == "not_a_socket", path


@pytest.mark.parametrize("mode,reason", [
    ("silent", "daemon_hung"),
    ("garbage", "bad_response"),
    ("endless", "body_too_large"),
    ("status500", "error_status"),
    ("notjson", "body_not_json_object"),
    ("redirect", "error_status"),
])
def test_each_failing_daemon_has_its_reason(docker, telemetry_image,
                                            containers, fake_socket, mode,
                                            reason):
    path, log = fake_socket(mode)
    t0 = time.monotonic()
    # The app outlives the probe's 5 s bound, so the probe gives up on its
    # own rather than because the app's exit cut it short.
    rec, _ = probe_in_container(docker, telemetry_image(NOWHERE),
                                containers(), ["-v", f"{path}:{SOCK}"],
                                args=("sleep", "7"))
    assert rec["docker_info_available"] is False
    assert rec["docker_info_unavailable_reason"] == reason
    # Bounded: the probe gives up after about 5 s whatever the daemon does.
    assert time.monotonic() - t0 < 30
    # One request, GET /info; a redirect is never followed.
    assert log.read_text().splitlines() == ["GET /info HTTP/1.1"]


def test_app_exit_cuts_a_hung_probe_short(docker, telemetry_image,
                                          containers, fake_socket):
    path, _ = fake_socket("silent")
    t0 = time.monotonic()
    rec, _ = probe_in_container(docker, telemetry_image(NOWHERE),
                                containers(), ["-v", f"{path}:{SOCK}"])
    assert rec["docker_info_unavailable_reason"] == "probe_interrupted"
    assert time.monotonic() - t0 < 5


def test_only_get_info_ever_reaches_the_daemon(docker, telemetry_image,
                                               containers, fake_socket):
    path, log = fake_socket("proxy")
    rec, _ = probe_in_container(docker, telemetry_image(NOWHERE),
                                containers(), ["-v", f"{path}:{SOCK}"],
                                args=("sh", "-c", "sleep 1"))
    assert rec["docker_info_available"] is True
    assert log.read_text().splitlines() == ["GET /info HTTP/1.1"]


def filters_by_thread(host_pid):
    out = {}
    for tid in os.listdir(f"/proc/{host_pid}/task"):
        with open(f"/proc/{host_pid}/task/{tid}/comm") as f:
            name = f.read().strip()
        out[name] = int(proc_status(f"{host_pid}/task/{tid}")
                        ["Seccomp_filters"])
    return out


@pytest.mark.parametrize("profile", ["default", "project", "unconfined"])
def test_telemetry_thread_has_one_filter_more(docker, telemetry_image,
                                              containers, profile):
    c = containers()
    extra = {"default": [], "project": ["--security-opt",
                                        f"seccomp={PROFILE}"],
             "unconfined": ["--security-opt", "seccomp=unconfined"]}[profile]
    docker.run(["run", "-d", "--name", c, "--network", "none",
                "-e", "SYNTHORG_TELEMETRY_ENABLED=1",
                "-e", "SYNTHORG_TELEMETRY_DRY_RUN=1", *extra,
                telemetry_image(NOWHERE), "sleep", "30"])
    pid = docker.host_pid(c)
    wait_for(lambda: "shim-telemetry" in filters_by_thread(pid) and
             "record=deployment.startup" in docker.logs(c)[1],
             what="telemetry thread up")
    f = filters_by_thread(pid)
    main = f.pop("synthorg-shim")
    assert f["shim-telemetry"] == main + 1, (profile, f, main)
    assert main == (0 if profile == "unconfined" else 1)
    # The app under the shim has no filter of the shim's.
    app = int(open(f"/proc/{pid}/task/{pid}/children").read().split()[0])
    assert int(proc_status(app)["Seccomp_filters"]) == main


@pytest.mark.parametrize("profile", ["default", "unconfined"])
def test_sandbox_refuses_exec_fork_and_writes(docker, telemetry_image,
                                             containers, profile):
    extra = [] if profile == "default" else ["--security-opt",
                                             "seccomp=unconfined"]
    c = containers()
    # The app itself still forks, execs and writes files, and its status
    # comes through; the init keeps forwarding signals.
    r = docker.run(["run", "--name", c, "--network", "none",
                    "-e", "SYNTHORG_TELEMETRY_ENABLED=1",
                    "-e", "SYNTHORG_TELEMETRY_DRY_RUN=1",
                    "-e", "SYNTHORG_TELEMETRY_SANDBOX_SELFTEST=1", *extra,
                    telemetry_image(NOWHERE), "sh", "-c",
                    "sleep 1; echo x > /tmp/f && cat /tmp/f && (exit 9)"],
                   check=False)
    assert r.returncode == 9
    assert r.stdout == "x\n"
    st, = log_lines(r.stderr, "sandbox.selftest")
    assert st["exec"] == "EPERM" and st["fork"] == "EPERM"
    assert st["open_write"] == "EPERM" and st["netlink_socket"] == "EPERM"
