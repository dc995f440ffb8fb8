"""The release build itself: static, with all four libraries and the CA
bundle inside, and TLS that verifies with nothing but what it carries."""
import os
import subprocess

import pytest

from harness import BUILD, REPO, is_static, log_lines
from telemetry_harness import embed, make_pki

pytestmark = pytest.mark.static_build

RELEASE = os.path.join(BUILD, "synthorg-shim")


def test_release_binary_is_static():
    out = subprocess.run(["file", "-L", RELEASE], capture_output=True,
                         text=True).stdout
    assert "statically linked" in out, out
    ldd = subprocess.run(["ldd", RELEASE], capture_output=True, text=True)
    assert "not a dynamic executable" in ldd.stdout + ldd.stderr


def test_release_binary_carries_its_libraries():
    strings = subprocess.run(["strings", "-n", "8", RELEASE],
                             capture_output=True, text=True).stdout
    assert "OpenSSL 3.0." in strings
    assert "not supported or disabled in libcurl" in strings
    assert "BEGIN CERTIFICATE" in strings      # the embedded CA bundle
    nm = subprocess.run(["nm", RELEASE], capture_output=True,
                        text=True).stdout
    for sym in ("curl_easy_init", "json_loadb", "seccomp_load",
                "SSL_CTX_new"):
        assert f" {sym}\n" in nm, sym


def test_embedded_bundle_verifies_tls_in_a_scratch_image(docker, helpers,
                                                          receiver, tmp_path,
                                                          containers):
    # A build whose embedded bundle is the test CA: with no SSL_CERT_FILE
    # and no file system to read certificates from, it must still verify.
    pki = make_pki(tmp_path / "pki")
    build = tmp_path / "build"
    r = subprocess.run(["make", "-C", REPO, f"B={build}",
                        f"CA_BUNDLE_SRC={pki['ca']}",
                        f"{build}/synthorg-shim"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert is_static(str(build / "synthorg-shim"))
    rx = receiver(tls=pki)
    binary = embed(tmp_path / "shim", rx.url.replace("127.0.0.1",
                                                     "localhost"),
                   shim=str(build / "synthorg-shim"))
    stage = tmp_path / "stage"
    stage.mkdir()
    image = docker.build_toolbox_image(str(stage), binary, helpers,
                                       tag=f"synthorg-shim-ca:{os.getpid()}")
    try:
        c = containers()
        out = docker.run(["run", "--name", c, "--network", "host",
                          "-e", "SYNTHORG_TELEMETRY_ENABLED=1", image,
                          "sh", "-c", "exit 4"], check=False)
        assert out.returncode == 4
        assert log_lines(out.stderr, "telemetry.delivery.failed") == []
        names = [s["name"] for s in rx.spans()]
        assert names[-1] == "deployment.shutdown", out.stderr
        assert all(q["tls"] for q in rx.requests())
    finally:
        docker.run(["rmi", "-f", image], check=False)
