"""Helpers shared by the scenario tests: running the shim, reading /proc."""
import io
import os
import re
import shlex
import subprocess
import tarfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, "build")
SHIM = os.environ.get("SHIM", os.path.join(BUILD, "synthorg-shim"))
HELPERS = os.environ.get("SHIM_HELPERS", os.path.join(BUILD, "helpers"))
DOCKER = "/usr/bin/docker"
BUSYBOX = "/bin/busybox"

# What every test starts from: nothing of the caller's environment leaks
# in (CI=true in particular), so each test states what the shim sees.
BASE_ENV = {"PATH": HELPERS + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LC_ALL": "C"}


def env(**extra):
    e = dict(BASE_ENV)
    e.update({k: str(v) for k, v in extra.items()})
    # Sanitizer builds need their runtime options passed through.
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ and k not in e:
            e[k] = os.environ[k]
    return e


# --kill-child: should a test give up on unshare and kill it, the
# namespace's PID 1 dies with it instead of running on with its children.
UNSHARE = ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--"]


def pidns_cmd(args, shim=None):
    return UNSHARE + [shim or SHIM] + list(args)


def run_pid1(args, timeout=30, environ=None, **kw):
    """Run the shim as PID 1 of a fresh PID namespace; wait for it."""
    return subprocess.run(pidns_cmd(args), env=environ or env(),
                          capture_output=True, text=True, timeout=timeout, **kw)


def start_pid1(args, environ=None, **kw):
    """Start the shim as PID 1 of a fresh PID namespace; do not wait."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(pidns_cmd(args), env=environ or env(), text=True,
                            **kw)


def children_of(pid):
    """Direct children of PID, from /proc/PID/task/*/children."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    return out


def ns_init_pid(unshare_pid, timeout=10):
    """The host pid of PID 1 (the shim) inside an unshare'd namespace."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        kids = children_of(unshare_pid)
        if kids:
            return kids[0]
        time.sleep(0.01)
    raise TimeoutError("unshare made no child")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def proc_state(pid):
    try:
        return proc_status(pid)["State"][0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def wait_for(pred, timeout=10, interval=0.01, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def log_lines(stderr, event=None):
    """The shim's structured lines in STDERR, as dicts of their fields."""
    out = []
    for line in stderr.splitlines():
        m = re.match(r"synthorg-shim\[(\d+)\]: (.*)$", line)
        if not m:
            continue
        fields = {"pid": m.group(1)}
        for k, v in re.findall(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|\S+)', m.group(2)):
            fields[k] = v[1:-1] if v.startswith('"') else v
        if event is None or fields.get("event") == event:
            out.append(fields)
    return out


def parse_probe(text):
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v
    return out


def sigset(hexmask):
    """Signal numbers in a /proc SigBlk/SigIgn hex mask."""
    m = int(hexmask, 16)
    return {i + 1 for i in range(64) if m >> i & 1}


def is_static(path):
    out = subprocess.run(["file", "-L", path], capture_output=True,
                         text=True).stdout
    return "statically linked" in out or "static-pie linked" in out


def shared_libs(path):
    """Absolute paths of the libraries a dynamic PATH loads (ldd)."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = set()
    for line in out.splitlines():
        for tok in line.split():
            if tok.startswith("/"):
                libs.add(tok)
    return sorted(libs)


class Docker:
    def run(self, args, check=True, timeout=120, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        r = subprocess.run([DOCKER] + args, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {shlex.join(args)} failed "
                                 f"({r.returncode}): {r.stderr}")
        return r

    def build_toolbox_image(self, stage, shim, helpers, tag=None):
        """Import a FROM-scratch root: the shim as ENTRYPOINT, busybox and
        the test helpers as the app.  A dynamic shim (sanitizer build)
        brings its libraries along."""
        tar_path = os.path.join(stage, "root.tar")
        with tarfile.open(tar_path, "w", dereference=True) as tar:
            def add_dir(name):
                ti = tarfile.TarInfo(name)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o1777 if name == "tmp" else 0o755
                tar.addfile(ti)

            for d in ("bin", "sbin", "usr", "usr/local", "usr/local/bin",
                      "tmp", "etc", "data", "proc", "sys", "dev"):
                add_dir(d)
            tar.add(shim, "sbin/synthorg-shim")
            tar.add(BUSYBOX, "bin/busybox")
            applets = subprocess.run([BUSYBOX, "--list"], capture_output=True,
                                     text=True, check=True).stdout.split()
            for a in applets:
                if a == "busybox":
                    continue
                ti = tarfile.TarInfo(f"bin/{a}")
                ti.type = tarfile.SYMTYPE
                ti.linkname = "busybox"
                tar.addfile(ti)
            for h in sorted(os.listdir(helpers)):
                tar.add(os.path.join(helpers, h), f"usr/local/bin/{h}")
            if not is_static(shim):
                for lib in shared_libs(shim):
                    tar.add(lib, lib.lstrip("/"))
            for name, text in (("etc/passwd", "root:x:0:0:root:/:/bin/sh\n"
                                "app:x:10001:10001:app:/tmp:/bin/sh\n"),
                               ("etc/group", "root:x:0:\napp:x:10001:\n")):
                data = text.encode()
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                ti.mode = 0o644
                tar.addfile(ti, io.BytesIO(data))
        tag = tag or f"synthorg-shim-test:{os.getpid()}"
        with open(tar_path, "rb") as f:
            self.run(["import", "--change",
                      'ENTRYPOINT ["/sbin/synthorg-shim", "--"]',
                      "--change", "ENV PATH=/usr/local/bin:/bin:/sbin",
                      "-", tag], stdin=f)
        return tag

    def inspect(self, name, fmt):
        return self.run(["inspect", "-f", fmt, name]).stdout.strip()

    def logs(self, name):
        r = self.run(["logs", name], check=False)
        return r.stdout, r.stderr

    def wait_exit(self, name, timeout=60):
        return int(self.run(["wait", name], timeout=timeout).stdout.strip())

    def host_pid(self, name):
        return int(self.inspect(name, "{{.State.Pid}}"))


class LineReader:
    """Collect lines from a pipe in a thread; wait for one with a timeout."""

    def __init__(self, pipe):
        import queue
        import threading
        self.q = queue.Queue()
        self.seen = []

        def pump():
            for line in pipe:
                self.q.put(line.rstrip("\n"))
            self.q.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, want, timeout=10):
        """Lines up to and including the first equal to WANT (or matching
        it when WANT is callable)."""
        import queue
        deadline = time.time() + timeout
        got = []
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"no line {want!r} within {timeout}s; "
                                     f"got {got}")
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"EOF before {want!r}; got {got}")
            got.append(line)
            self.seen.append(line)
            if (want(line) if callable(want) else line == want):
                return got

    def rest(self, timeout=10):
        out = []
        deadline = time.time() + timeout
        import queue
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            out.append(line)
        return out


class Pty:
    """A program on a new pseudo-terminal (its controlling terminal)."""

    def __init__(self, argv, environ):
        import pty
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, environ)
            finally:
                os._exit(127)
        self.buf = b""

    def expect(self, text, timeout=10):
        import select
        deadline = time.time() + timeout
        while text not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"{text!r} not seen; got {self.buf!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"EOF before {text!r}; got {self.buf!r}")
                self.buf += chunk
        return True

    def send(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                return os.waitstatus_to_exitcode(st)
            # Keep draining, or a full terminal buffer could block the app.
            import select
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    self.buf += os.read(self.fd, 4096)
                except OSError:
                    pass
        raise AssertionError("program on the terminal did not exit")

    def close(self):
        if self.pid:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)
