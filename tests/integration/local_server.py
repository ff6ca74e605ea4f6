"""Starts and stops the real tritonserver (../shared/tritonserver-2.70, CPU build) for tests.

Standard library only. The server listens on 127.0.0.1 with kernel-assigned free ports, writes its
stdout and stderr to a log file, and serves a backend directory holding our assembled backend
(a symlink to build/backends/java_onnxruntime) beside Triton's stock ONNX Runtime backend:

    dest = assemble_backends(root, os.path.join(root, "build", "triton-backends"))
    with TritonServer(find_server(root), "model_repository", dest, log_path="build/x.log") as s:
        urllib.request.urlopen("http://%s/v2/health/ready" % s.http_url)

Used by run_local.py (``make test-triton``) and by other tests that need a server of their own.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SERVER_VERSION_DIR = os.path.join("..", "shared", "tritonserver-2.70")


def shared_dir(root):
    """<root>/../shared/tritonserver-2.70, normalized (may not exist)."""
    return os.path.normpath(os.path.join(os.path.abspath(root), SERVER_VERSION_DIR))


def find_server(root):
    """The CPU tritonserver binary beside the checkout at root, or None when it is absent."""
    path = os.path.join(shared_dir(root), "cpu", "bin", "tritonserver")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def assemble_backends(root, dest):
    """Makes dest/ a Triton backend directory: onnxruntime/ (the stock backend, via
    stock-ort-backend.sh, reused when present) and java_onnxruntime, a symlink to
    root/build/backends/java_onnxruntime (which `make build` assembles). Returns dest."""
    root = os.path.abspath(root)
    ours = os.path.join(root, "build", "backends", "java_onnxruntime")
    if not os.path.isfile(os.path.join(ours, "libtriton_java_onnxruntime.so")):
        raise FileNotFoundError("%s is not assembled: run make build" % ours)
    os.makedirs(dest, exist_ok=True)
    stock = os.path.join(dest, "onnxruntime")
    if not (os.path.isfile(os.path.join(stock, "libtriton_onnxruntime.so"))
            and os.path.isfile(os.path.join(stock, "libonnxruntime.so.1"))):
        script = os.path.join(shared_dir(root), "stock-ort-backend.sh")
        subprocess.run(["bash", script, "cpu", dest], check=True, stdout=subprocess.DEVNULL)
    link = os.path.join(dest, "java_onnxruntime")
    if os.path.islink(link):
        if os.path.realpath(link) != os.path.realpath(ours):
            os.unlink(link)
    elif os.path.exists(link):
        shutil.rmtree(link)
    if not os.path.islink(link):
        os.symlink(ours, link)
    return dest


def absent(suite, message, how):
    """What a suite does where its server (or nginx, ...) is not here: one line and 0, or a
    failure (1) under CI=true, where it must be."""
    if os.environ.get("CI") == "true":
        print("%s: FAILED: %s (CI=true needs it)" % (suite, message), file=sys.stderr)
        return 1
    print("%s: SKIPPED: %s; run it with: %s" % (suite, message, how))
    return 0


def free_port():
    """A TCP port on 127.0.0.1 the kernel just handed out (free when this returns)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_java_home():
    """JAVA_HOME, else the JDK of the javac on PATH (dirname(dirname(realpath(javac)))), else None."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    javac = shutil.which("javac")
    return os.path.dirname(os.path.dirname(os.path.realpath(javac))) if javac else None


def _tail(path, lines=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(no log: %s)" % e


class TritonServer:
    """One tritonserver process. start() waits for /v2/health/ready; stop() signals it and returns
    its exit code. http_url and metrics_url are "127.0.0.1:port"; proc is the Popen (None before
    start). Not thread-safe: one owner starts and stops it."""

    def __init__(self, binary, repo, backends, *, args=(), backend_config=(), log_path, env=None):
        self.binary = binary
        self.repo = os.path.abspath(repo)
        self.backends = os.path.abspath(backends)
        self.args = list(args)
        self.backend_config = list(backend_config)
        if not any(c.startswith("java_onnxruntime,java-home=") for c in self.backend_config):
            java_home = default_java_home()
            if java_home:
                self.backend_config.append("java_onnxruntime,java-home=" + java_home)
        self.log_path = os.path.abspath(log_path)
        self.env = env
        self.http_port = free_port()
        self.metrics_port = free_port()
        while self.metrics_port == self.http_port:
            self.metrics_port = free_port()
        self.http_url = "127.0.0.1:%d" % self.http_port
        self.metrics_url = "127.0.0.1:%d" % self.metrics_port
        self.proc = None
        self._log = None

    def command(self):
        """The tritonserver command line start() runs."""
        cmd = [self.binary, "--model-repository", self.repo, "--backend-directory", self.backends,
               "--http-address", "127.0.0.1", "--http-port", str(self.http_port),
               "--metrics-address", "127.0.0.1", "--metrics-port", str(self.metrics_port)]
        cmd += ["--backend-config=" + c for c in self.backend_config]
        return cmd + self.args

    def start(self, timeout=120):
        """Starts the server and waits until /v2/health/ready answers 200. Raises RuntimeError
        (with the log's tail) when the process exits first or timeout seconds pass."""
        if self.proc is not None:
            raise RuntimeError("server already started")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        url = "http://%s/v2/health/ready" % self.http_url
        while True:
            code = self.proc.poll()
            if code is not None:
                self._close_log()
                raise RuntimeError("tritonserver exited with %d before ready; log %s:\n%s"
                                   % (code, self.log_path, _tail(self.log_path)))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self._kill()
                raise RuntimeError("tritonserver not ready after %ss; log %s:\n%s"
                                   % (timeout, self.log_path, _tail(self.log_path)))
            time.sleep(0.25)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends sig and waits for the exit; returns the exit code (negative: killed by a signal).
        When it has not exited after timeout seconds it is killed and RuntimeError is raised."""
        if self.proc is None:
            raise RuntimeError("server not started")
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill()
                raise RuntimeError("tritonserver still running %ss after signal %d; killed. log %s:\n%s"
                                   % (timeout, sig, self.log_path, _tail(self.log_path)))
        self._close_log()
        return self.proc.returncode

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        """Everything the server wrote so far."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        if self.running():
            self.stop()
        else:
            self._close_log()
        return False
