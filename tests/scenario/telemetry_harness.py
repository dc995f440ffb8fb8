"""The local Logfire stand-in and token-embedded shims, for telemetry tests."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import REPO, SHIM

sys.path.insert(0, os.path.join(REPO, "tests", "receiver"))
from checker_guard import require_shared_checker  # noqa: E402

RECEIVER = os.path.join(REPO, "tests", "receiver", "receiver.py")
MAKE_PKI = os.path.join(REPO, "tests", "receiver", "make-pki.sh")
EMBED = os.path.join(REPO, "scripts", "embed-token")
TOKEN = "pylf_v1_us_scenarioTestToken0123456789"


class Receiver:
    """receiver.py on loopback: checks every body with the shared checker."""

    def __init__(self, workdir, mode="ok", tls=None, host="127.0.0.1"):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.checker = require_shared_checker()
        self.token_file = self.dir / "token"
        self.token_file.write_text(TOKEN + "\n")
        self.port_file = self.dir / "port"
        self.log = self.dir / "requests.jsonl"
        self.mode_file = self.dir / "mode"
        self.err = open(self.dir / "stderr", "wb")
        self.out = open(self.dir / "stdout", "wb")
        self.scheme = "https" if tls else "http"
        self.host = host
        argv = ["/usr/bin/python3", RECEIVER, "--host", host, "--port", "0",
                "--port-file", str(self.port_file), "--token-file",
                str(self.token_file), "--log", str(self.log), "--mode", mode,
                "--mode-file", str(self.mode_file), "--checker",
                str(self.checker), "--print"]
        if tls:
            argv += ["--tls-cert", tls["cert"], "--tls-key", tls["key"]]
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err)
        deadline = time.time() + 30
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("receiver did not start: " +
                                     (self.dir / "stderr").read_text())
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        self.url = f"{self.scheme}://{host}:{self.port}"

    def set_mode(self, mode):
        tmp = self.dir / "mode.tmp"
        tmp.write_text(mode + "\n")
        os.replace(tmp, self.mode_file)

    def requests(self):
        if not self.log.exists():
            return []
        return [json.loads(l) for l in self.log.read_text().splitlines() if l]

    def spans(self, delivered_only=True):
        out = []
        for r in self.requests():
            if delivered_only and r.get("status") != 200:
                continue
            out += r.get("spans", [])
        return out

    def wait_spans(self, names, timeout=20):
        """Wait until spans with NAMES (a list, order kept) have arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [s["name"] for s in self.spans()]
            it = iter(got)
            if all(n in it for n in names):
                return self.spans()
            time.sleep(0.05)
        raise AssertionError(f"spans {names} not received; got "
                             f"{[s['name'] for s in self.spans()]}")

    def assert_all_checked(self):
        """Every request the receiver got passed the strict check."""
        for r in self.requests():
            assert r["checked"] is True, r
            assert r["verdict"] == "pass", (r["checker"], r["receiver_checks"])
            assert r["auth"] == "match", r["auth"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        self.out.close()


def make_pki(directory):
    subprocess.run(["sh", MAKE_PKI, str(directory)], check=True)
    return {"ca": str(Path(directory) / "ca.pem"),
            "cert": str(Path(directory) / "server.pem"),
            "key": str(Path(directory) / "server.key")}


def embed(out_path, base_url, token=TOKEN, shim=None):
    """A copy of the shim carrying TOKEN and BASE_URL, as a release has."""
    tok = Path(str(out_path) + ".token")
    tok.write_text(token)
    subprocess.run([EMBED, "--token-file", str(tok), "--base-url", base_url,
                    shim or SHIM, str(out_path)], check=True,
                   capture_output=True)
    tok.unlink()
    return str(out_path)


def telemetry_env(data_dir, **extra):
    from harness import env
    e = env(SYNTHORG_TELEMETRY_ENABLED="1", SYNTHORG_DATA_DIR=str(data_dir))
    e.update({k: str(v) for k, v in extra.items()})
    return e
