"""Fixtures for the scenario and hardening tests: the built shim as PID 1.

Two ways to be PID 1 are used: a fresh PID namespace made with
`unshare --pid --fork --mount-proc`, and the ENTRYPOINT of a real container
on the local Docker daemon.  Every test builds its own environment: the
suite itself runs with CI=true in CI, and the shim reads the environment.
"""
import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "scenario"))
import harness  # noqa: E402
import signal  # noqa: E402

# The shim hands its app the ignored signals and the mask it was given, so
# a test run started under nohup (SIGHUP ignored) or by a runner that
# blocks signals would change what the apps under test see.  Start every
# test from the defaults; subprocess resets SIGPIPE and SIGXFSZ itself.
for _sig in signal.valid_signals():
    if _sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGPIPE,
                signal.SIGXFSZ):
        continue
    try:
        if signal.getsignal(_sig) == signal.SIG_IGN:
            signal.signal(_sig, signal.SIG_DFL)
    except (OSError, ValueError):
        pass
signal.pthread_sigmask(signal.SIG_SETMASK, [])


@pytest.fixture(scope="session")
def shim():
    path = harness.SHIM
    if not os.access(path, os.X_OK):
        pytest.fail(f"no shim at {path}: run `make` first (or set SHIM)")
    return path


@pytest.fixture(scope="session")
def helpers():
    for name in ("probe", "sigprint", "orphans", "memhog"):
        if not os.access(os.path.join(harness.HELPERS, name), os.X_OK):
            pytest.fail(f"helper {name} missing: run `make helpers`")
    return harness.HELPERS


@pytest.fixture(scope="session")
def docker():
    """A Docker daemon that answers; started here when none runs."""
    if not os.path.exists(harness.DOCKER):
        pytest.fail(f"{harness.DOCKER} missing: run scripts/setup-host "
                    "(Debian's docker.io)")
    r = subprocess.run([os.path.join(harness.REPO, "scripts", "dockerd-up")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("could not start the Docker daemon:\n" + r.stderr)
    return harness.Docker()


@pytest.fixture(scope="session")
def image(docker, shim, helpers, tmp_path_factory):
    """A FROM-scratch image: the shim, busybox-static and the helpers."""
    stage = tmp_path_factory.mktemp("image")
    tag = docker.build_toolbox_image(str(stage), shim, helpers)
    yield tag
    docker.run(["rmi", "-f", tag], check=False)


@pytest.fixture
def containers(docker):
    """Names handed out here are removed after the test, whatever happens."""
    made = []

    def name(prefix="shimtest"):
        n = f"{prefix}-{os.getpid()}-{len(made)}-{int(time.time() * 1000) % 100000}"
        made.append(n)
        return n

    yield name
    for n in made:
        docker.run(["rm", "-f", n], check=False)


@pytest.fixture
def receiver(tmp_path):
    """Factory: start a local Logfire stand-in; all are stopped after."""
    from telemetry_harness import Receiver
    made = []

    def start(mode="ok", tls=None, host="127.0.0.1", name=None):
        r = Receiver(tmp_path / (name or f"rx{len(made)}"), mode=mode,
                     tls=tls, host=host)
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()


@pytest.fixture(scope="session")
def telemetry_image(docker, shim, helpers, tmp_path_factory):
    """Factory: the toolbox image around a shim embedded for BASE_URL."""
    from telemetry_harness import embed
    made = {}

    def build(base_url):
        if base_url not in made:
            stage = tmp_path_factory.mktemp("timage")
            binary = embed(stage / "synthorg-shim", base_url)
            made[base_url] = docker.build_toolbox_image(
                str(stage), binary, helpers,
                tag=f"synthorg-shim-ttest:{os.getpid()}-{len(made)}")
        return made[base_url]

    yield build
    for tag in made.values():
        docker.run(["rmi", "-f", tag], check=False)
