"""The image: the Dockerfile built offline, the token as a build secret,
and the hardened compose files.

One session builds the image twice from the repository's Dockerfile, with
no network: once with a fake token as the `logfire_token` build secret,
once without. The first build uses --no-cache, so every RUN step really
runs offline (set SYNTHORG_IMAGE_TEST_REUSE_CACHE=1 to reuse BuildKit's
cache while iterating locally); the second reuses its layers but for the
embedding step, which EMBED_BUILD_ID makes run again.

Needs: the pinned sources (fetched here with scripts/build-deps
--fetch-only, which uses the network only when build/sources lacks them),
the builder base (scripts/mk-builder-image, cached as an image), Debian's
docker.io, docker-compose and python3-yaml.
"""
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
import warnings

import pytest

from harness import BUSYBOX, DOCKER, REPO, log_lines

pytestmark = pytest.mark.static_build

COMPOSE = "/usr/bin/docker-compose"
COMPOSE_DIR = os.path.join(REPO, "docker")
SECCOMP_PROFILE = os.path.join(COMPOSE_DIR, "seccomp.json")
UID_GID = "65532:65532"
DEPLOYMENT_ENV = "image-test"
BUILD_TIMEOUT = 45 * 60


def log(msg):
    # Timings land in the -s output and in the failure report.
    print(f"[test_image] {msg}", file=sys.stderr, flush=True)


def run(argv, timeout=600, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(argv, timeout=timeout, **kw)


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


@pytest.fixture(scope="session")
def builder_image(docker):
    """The offline builder base, with the pinned sources beside it."""
    t0 = time.time()
    r = run([os.path.join(REPO, "scripts", "build-deps"), "--fetch-only"],
            timeout=1800)
    if r.returncode != 0:
        pytest.fail("scripts/build-deps --fetch-only failed; the image "
                    "build needs the pinned sources in build/sources:\n" +
                    tail(r.stderr))
    log(f"sources ready in {time.time() - t0:.1f}s")
    t0 = time.time()
    r = run([os.path.join(REPO, "scripts", "mk-builder-image")],
            timeout=1800)
    if r.returncode != 0:
        pytest.fail("scripts/mk-builder-image failed (needs root, "
                    "debootstrap and the Debian archive):\n" + tail(r.stderr))
    ref = r.stdout.strip().splitlines()[-1]
    for line in r.stderr.splitlines():
        log(line)               # its step timings, when it built
    log(f"builder base {ref} ready in {time.time() - t0:.1f}s")
    return ref


def docker_build(args, context, log_path):
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    t0 = time.time()
    with open(log_path, "w") as out:
        r = subprocess.run([DOCKER, "build", "--progress=plain",
                            "--network=none", *args, context],
                           stdout=out, stderr=subprocess.STDOUT, env=env,
                           timeout=BUILD_TIMEOUT)
    took = time.time() - t0
    with open(log_path) as f:
        text = f.read()
    if r.returncode != 0:
        pytest.fail(f"docker build {' '.join(args)} failed after "
                    f"{took:.0f}s; end of its log ({log_path}):\n" +
                    tail(text, 60))
    return took, text


class Built:
    """What the session built: tags, the token, the build logs."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture(scope="session")
def built(docker, builder_image, tmp_path_factory):
    stage = tmp_path_factory.mktemp("image-build")
    # Recognizable and unique: any occurrence is this session's leak.
    token = "pylf_v1_us_imagetestFAKE" + secrets.token_hex(16)
    token_file = stage / "logfire_token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    tag = f"synthorg-shim-imagetest:{os.getpid()}"
    b = Built(token=token, with_token=tag + "-token", plain=tag + "-plain",
              app_with_token=tag + "-app-token", app_plain=tag + "-app-plain",
              stage=stage)
    made = []
    try:
        cache = ([] if os.environ.get("SYNTHORG_IMAGE_TEST_REUSE_CACHE")
                 else ["--no-cache"])
        took, b.log_with_token = docker_build(
            cache + ["--build-arg", f"BUILDER_IMAGE={builder_image}",
                     "--secret", f"id=logfire_token,src={token_file}",
                     "--build-arg", f"EMBED_BUILD_ID={secrets.token_hex(8)}",
                     "--build-arg", f"DEPLOYMENT_ENV={DEPLOYMENT_ENV}",
                     "-t", b.with_token], REPO, stage / "build-token.log")
        made.append(b.with_token)
        log(f"offline build with the token secret: {took:.0f}s "
            f"({' '.join(cache) or 'cache reused'})")
        took, b.log_plain = docker_build(
            ["--build-arg", f"BUILDER_IMAGE={builder_image}",
             "--build-arg", f"EMBED_BUILD_ID={secrets.token_hex(8)}",
             "-t", b.plain], REPO, stage / "build-plain.log")
        made.append(b.plain)
        log(f"offline build without the secret: {took:.0f}s")
        size = docker.inspect(b.with_token, "{{.Size}}")
        log(f"image size: {int(size)} bytes")

        # The app: busybox-static on top, as an operator's image would add
        # its application to the shim's.
        app_dir = stage / "app"
        app_dir.mkdir()
        shutil.copy(BUSYBOX, app_dir / "busybox")
        for base, app in ((b.with_token, b.app_with_token),
                          (b.plain, b.app_plain)):
            (app_dir / "Dockerfile").write_text(
                f"FROM {base}\nCOPY busybox /bin/busybox\n")
            docker_build(["-t", app], str(app_dir),
                         stage / f"build-{app.rsplit('-', 2)[-1]}.log")
            made.append(app)
        yield b
    finally:
        for t in reversed(made):
            docker.run(["rmi", "-f", t], check=False)


BB = "/bin/busybox"


def run_app(docker, image, name, argv, extra=()):
    """Run IMAGE detached (so that its logs can be read, as an operator
    would), wait, return the exit status and the logs; remove it after."""
    docker.run(["run", "-d", "--name", name, "--network", "none", *extra,
                image] + list(argv))
    try:
        status = docker.wait_exit(name, timeout=120)
        out, err = docker.logs(name)
    finally:
        # -v: the image's VOLUME gave the container an anonymous volume.
        docker.run(["rm", "-f", "-v", name], check=False)
    return status, out, err


# --- The image runs the shim as PID 1 ----------------------------------


def test_app_exit_status_passes_through(docker, built, containers):
    status, out, err = run_app(docker, built.app_plain, containers(),
                               [BB, "sh", "-c", "exit 42"])
    assert status == 42, err
    status, _, err = run_app(docker, built.app_plain, containers(),
                             [BB, "sh", "-c", f"{BB} kill -TERM $$"])
    assert status == 128 + 15, err


def test_shim_is_pid1(docker, built, containers):
    status, out, err = run_app(docker, built.app_plain, containers(),
                               [BB, "cat", "/proc/1/cmdline"])
    assert status == 0, err
    assert out.split("\0")[:2] == ["/synthorg-shim", "--"], out
    assert log_lines(err, "child.exited"), err


def test_image_user_is_non_root_and_owns_data(docker, built, containers):
    for image in (built.with_token, built.plain):
        assert docker.inspect(image, "{{.Config.User}}") == UID_GID
        assert docker.inspect(image, "{{json .Config.Entrypoint}}") == \
            '["/synthorg-shim","--"]'
        assert "/data" in json.loads(
            docker.inspect(image, "{{json .Config.Volumes}}"))
    script = (f"{BB} id -u; {BB} id -g; {BB} stat -c %u:%g /data; "
              f"{BB} touch /data/probe && echo data-writable")
    status, out, err = run_app(docker, built.app_plain, containers(),
                               [BB, "sh", "-c", script])
    assert status == 0, err
    assert out.split() == ["65532", "65532", UID_GID, "data-writable"], out


def test_deployment_env_is_baked(docker, built):
    def baked(image):
        env = json.loads(docker.inspect(image, "{{json .Config.Env}}"))
        return [e.split("=", 1)[1] for e in env
                if e.startswith("SYNTHORG_TELEMETRY_ENV_BAKED=")]

    assert baked(built.with_token) == [DEPLOYMENT_ENV]
    assert baked(built.plain) == ["dev"]      # the ARG's default


def test_image_holds_only_the_shim_and_data(docker, built, tmp_path):
    names = set()
    for _, member, _ in image_files(docker, built.with_token, tmp_path):
        if member is not None:
            names.add(member.name.rstrip("/"))
    assert names == {"synthorg-shim", "data"}, names


# --- The token: in the binary, nowhere else ------------------------------


def image_files(docker, image, tmp_path):
    """(layer, member, bytes) for every entry of every layer of IMAGE, as
    `docker save` exports it; non-layer files come as member None."""
    tar_path = tmp_path / "image.tar"
    docker.run(["save", "-o", str(tar_path), image], timeout=300)
    out = []
    with tarfile.open(tar_path) as outer:
        for m in outer.getmembers():
            if not m.isfile():
                continue
            data = outer.extractfile(m).read()
            if not m.name.endswith("layer.tar"):
                out.append((m.name, None, data))
                continue
            with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                for lm in layer.getmembers():
                    body = layer.extractfile(lm).read() if lm.isfile() else b""
                    out.append((m.name, lm, body))
            # Headers (names, link targets, pax records) must not hold it
            # either: every hit in the raw layer is one inside a file.
            out.append((m.name + "#raw", None, data))
    tar_path.unlink()
    return out


def test_token_only_inside_the_binary(docker, built, tmp_path):
    token = built.token.encode()
    in_files = {}
    raw_hits = {}
    for layer, member, data in image_files(docker, built.with_token,
                                           tmp_path):
        n = data.count(token)
        if member is not None:
            if n:
                in_files[(layer, member.name)] = n
            assert token not in member.name.encode()
            assert token not in (member.linkname or "").encode()
            assert not any(token in str(v).encode()
                           for v in member.pax_headers.values())
        elif layer.endswith("#raw"):
            raw_hits[layer[:-4]] = n
        else:
            assert n == 0, f"token in {layer}"
    # Exactly one copy, in the embed slot of /synthorg-shim...
    assert [(name, n) for (_, name), n in in_files.items()] == \
        [("synthorg-shim", 1)], in_files
    # ...and no other byte of any layer holds it.
    for layer, n in raw_hits.items():
        assert n == sum(c for (l, _), c in in_files.items() if l == layer)


def test_token_not_in_history_inspect_or_build_log(docker, built):
    for image in (built.with_token, built.app_with_token):
        hist = docker.run(["history", "--no-trunc", image]).stdout
        assert hist.strip()
        assert built.token not in hist
        assert built.token not in docker.run(["inspect", image]).stdout
    assert built.token not in built.log_with_token
    assert "embed-token: wrote" in built.log_with_token


def test_embedded_image_reports_the_token(docker, built, containers):
    # Hardened as compose.yaml runs it; --rm is not used so that the
    # container's logs can be read after it ended.
    status, out, err = run_app(
        docker, built.app_with_token, containers(), [BB, "sh", "-c", "exit 3"],
        extra=["--read-only", "--cap-drop", "ALL", "--security-opt",
               "no-new-privileges:true", "--tmpfs", "/tmp",
               "-e", "SYNTHORG_TELEMETRY_ENABLED=1",
               "-e", "SYNTHORG_TELEMETRY_DRY_RUN=1"])
    assert status == 3, err
    init, = log_lines(err, "telemetry.reporter.initialized")
    assert init["environment"] == DEPLOYMENT_ENV
    assert init["environment_source"] == "baked"
    assert log_lines(err, "telemetry.token.missing") == []
    assert log_lines(err, "telemetry.dry_run"), err
    assert built.token not in out + err


def test_image_without_secret_reports_token_missing(docker, built,
                                                     containers):
    status, out, err = run_app(
        docker, built.app_plain, containers(), [BB, "true"],
        extra=["-e", "SYNTHORG_TELEMETRY_ENABLED=1",
               "-e", "SYNTHORG_TELEMETRY_DRY_RUN=1"])
    assert status == 0, err
    assert len(log_lines(err, "telemetry.token.missing")) == 1, err
    assert log_lines(err, "telemetry.reporter.initialized") == []
    assert built.token not in out + err
    assert "no logfire_token secret" in built.log_plain


# --- Compose --------------------------------------------------------------


@pytest.fixture(scope="session")
def compose(tmp_path_factory):
    """docker-compose (v1) and a reader for its output.

    docker-compose reads the seccomp profile while it resolves the file;
    while docker/seccomp.json does not exist yet, a placeholder in a temp
    dir stands in, and test_compose_seccomp_profile says so loudly."""
    if not os.access(COMPOSE, os.X_OK):
        pytest.fail(f"{COMPOSE} missing: apt-get install docker-compose")
    try:
        import yaml
    except ImportError:
        pytest.fail("python3-yaml missing: apt-get install python3-yaml")
    extra = {}
    if not os.path.exists(SECCOMP_PROFILE):
        placeholder = tmp_path_factory.mktemp("seccomp") / "seccomp.json"
        placeholder.write_text('{"defaultAction": "SCMP_ACT_ALLOW"}\n')
        extra["SYNTHORG_SECCOMP_PROFILE"] = str(placeholder)

    def call(files, *args, env=None, timeout=120):
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
             "LC_ALL": "C.UTF-8"}
        e.update(extra)
        e.update(env or {})
        argv = [COMPOSE]
        for f in files:
            argv += ["-f", f]
        # From docker/: docker-compose v1 resolves ./seccomp.json against
        # the working directory.
        return run(argv + list(args), cwd=COMPOSE_DIR, env=e,
                   timeout=timeout)

    def config(files, env=None):
        r = call(files, "config", env=env)
        assert r.returncode == 0, r.stderr
        return yaml.safe_load(r.stdout)["services"]["app"]

    call.config = config
    return call


def socket_gid():
    return str(os.stat("/var/run/docker.sock").st_gid)


def assert_hardened(svc):
    assert svc["read_only"] is True
    assert svc["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in svc["security_opt"]
    assert any(o.startswith("seccomp") for o in svc["security_opt"])
    assert svc["init"] is False
    assert svc["user"] == UID_GID
    assert any(t.startswith("/tmp") for t in svc["tmpfs"])
    assert "synthorg-data:/data:rw" in svc["volumes"]
    env = svc["environment"]
    assert env["SYNTHORG_TELEMETRY_ENABLED"] == "false"
    assert env["SYNTHORG_DATA_DIR"] == "/data"
    # The stop timeout covers the shim's grace and telemetry budget.
    grace = float(env["SYNTHORG_SHIM_GRACE_SECONDS"])
    budget = float(env["SYNTHORG_TELEMETRY_SHUTDOWN_BUDGET_SECONDS"])
    assert svc["stop_grace_period"].endswith("s")
    assert float(svc["stop_grace_period"][:-1]) > grace + budget


def test_compose_config_alone(compose):
    svc = compose.config(["compose.yaml"])
    assert_hardened(svc)
    assert "group_add" not in svc
    assert not any("docker.sock" in str(v) for v in svc["volumes"])


def test_compose_config_with_sandbox_overlay(compose):
    gid = socket_gid()
    svc = compose.config(["compose.yaml", "compose.sandbox.yaml"],
                         env={"DOCKER_GID": gid})
    assert_hardened(svc)
    assert svc["group_add"] == [gid]
    sock = [v for v in svc["volumes"] if isinstance(v, dict)]
    assert sock == [{"type": "bind", "source": "/var/run/docker.sock",
                     "target": "/var/run/docker.sock", "read_only": True}]


def test_sandbox_overlay_demands_the_socket_group(compose):
    r = compose(["compose.yaml", "compose.sandbox.yaml"], "config")
    assert r.returncode != 0
    assert "DOCKER_GID" in r.stderr and "stat -c %g" in r.stderr


def test_compose_seccomp_profile(compose):
    if not os.path.exists(SECCOMP_PROFILE):
        msg = ("docker/seccomp.json IS MISSING: compose.yaml references it, "
               "and these compose tests ran against an allow-all placeholder "
               "instead. Commit the container seccomp profile.")
        warnings.warn(msg)
        pytest.skip(msg)
    with open(SECCOMP_PROFILE) as f:
        profile = json.load(f)
    assert profile.get("defaultAction")
    assert profile.get("syscalls")
    svc = compose.config(["compose.yaml"])
    assert "seccomp:./seccomp.json" in svc["security_opt"]


def test_compose_runs_the_hardened_service(docker, built, compose, tmp_path):
    """compose.yaml + the sandbox overlay, for real: non-root, read-only
    root, no capabilities, the socket's group, and the shim reading the
    daemon's /info through the mounted socket."""
    override = tmp_path / "test-override.yaml"
    # No network (the daemon has no bridge), no restart loop.
    override.write_text("services:\n  app:\n    network_mode: none\n"
                        "    restart: \"no\"\n")
    files = ["compose.yaml", "compose.sandbox.yaml", str(override)]
    # Compose interpolates the file, not the values it substitutes: "$"
    # in the command below reaches the shell as it is.
    script = "; ".join([
        f"{BB} id -u", f"echo groups=$({BB} id -G)",
        f"{BB} touch /data/x && echo data-writable",
        f"{BB} touch /tmp/x && echo tmp-writable",
        f"{BB} touch /x 2>/dev/null || echo root-read-only",
        f"{BB} grep -E '^(CapEff|NoNewPrivs):' /proc/self/status",
        # Long enough for the telemetry's /info probe to finish.
        f"{BB} sleep 3", "exit 7"])
    env = {"DOCKER_GID": socket_gid(),
           "SYNTHORG_APP_IMAGE": built.app_with_token,
           "SYNTHORG_APP_COMMAND": f"{BB} sh -c \"{script}\"",
           "SYNTHORG_TELEMETRY_ENABLED": "true",
           "SYNTHORG_TELEMETRY_DRY_RUN": "true"}
    project = f"synthorgimagetest{os.getpid()}"
    try:
        r = compose(files, "-p", project, "up", "--no-color",
                    "--abort-on-container-exit", "--exit-code-from", "app",
                    env=env, timeout=300)
        lines = [l.split("| ", 1)[1] for l in r.stdout.splitlines()
                 if "| " in l]
        out = "\n".join(lines)
        assert r.returncode == 7, r.stdout + r.stderr
        assert "65532" in lines
        groups, = [l for l in lines if l.startswith("groups=")]
        assert socket_gid() in groups[len("groups="):].split(), groups
        for word in ("data-writable", "tmp-writable", "root-read-only"):
            assert word in lines, out
        assert "CapEff:\t0000000000000000" in lines, out
        assert "NoNewPrivs:\t1" in lines, out
        assert log_lines(out, "telemetry.reporter.initialized"), out
        startup = [l for l in log_lines(out, "telemetry.dry_run")
                   if l.get("record") == "deployment.startup"]
        assert len(startup) == 1, out
        assert '"docker_info_available","value":{"boolValue":true}' in out
        assert built.token not in r.stdout + r.stderr
    finally:
        compose(files, "-p", project, "down", "-v", env=env)
