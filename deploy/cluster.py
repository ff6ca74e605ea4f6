"""N real tritonservers (java_onnxruntime beside the stock backend) behind one nginx on 127.0.0.1.

Standard library only; the servers come from tests/integration/local_server.py (the CPU build of
../shared/tritonserver-2.70), nginx is Debian's (/usr/sbin/nginx), run as a process of ours with
the configuration generated from deploy/nginx.conf.in. Every port is kernel-assigned; every
process is stopped on exit.

    with Cluster(root, servers=3, work="build/deploy/run") as c:
        c.url          # nginx, "127.0.0.1:port"
        c.servers[i]   # local_server.TritonServer: http_url, metrics_url, stop()

Run it by hand (prints the URLs, stops on Ctrl-C or after --seconds):

    /usr/bin/python3 deploy/cluster.py --servers 3
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import local_server  # noqa: E402

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
# tritonserver forwards these headers into the request's parameters (case-insensitive, unanchored
# by Triton; anchored here): input-cache-key-<input>, input_cache_key.<input>, output-...
HEADER_PATTERN = "^(in|out)put[-_]cache[-_]key"
# Models served by every replica: two_input (named keys, auto mode) and two_input_content (the
# same ONNX file with input_cache "content" for image; the small bias is not cached).
MODELS = ("two_input", "two_input_content")


def find_nginx():
    return NGINX if os.path.isfile(NGINX) and os.access(NGINX, os.X_OK) else None


def make_repo(root, dest):
    """dest/two_input (the example model) and dest/two_input_content (its ONNX file, content mode)."""
    src = os.path.join(root, "model_repository", "two_input")
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    for name in MODELS:
        os.makedirs(os.path.join(dest, name, "1"))
        os.symlink(os.path.join(src, "1", "model.onnx"), os.path.join(dest, name, "1", "model.onnx"))
        with open(os.path.join(src, "config.pbtxt")) as f:
            config = f.read().replace('name: "two_input"', 'name: "%s"' % name)
        if name == "two_input_content":
            config += ('parameters { key: "input_cache" value: { string_value: "content" } }\n'
                       'parameters { key: "input_cache.bias" value: { string_value: "off" } }\n')
        with open(os.path.join(dest, name, "config.pbtxt"), "w") as f:
            f.write(config)
    return dest


def nginx_config(template, work, listen, upstreams):
    """The template with its @...@ fields filled: upstreams is a list of "127.0.0.1:port"."""
    with open(template) as f:
        text = f.read()
    servers = "\n".join("    server %s max_fails=1 fail_timeout=10s;" % u for u in upstreams)
    # As root nginx would run its worker as nobody, who may not reach build/: keep it root.
    user = "user root;" if os.geteuid() == 0 else ""
    text = (text.replace("@USER@", user).replace("@WORK@", work).replace("@LISTEN@", listen)
            .replace("@SERVERS@", servers))
    if "@" in "".join(line.split("#")[0] for line in text.splitlines()):
        raise ValueError("unfilled field left in %s" % template)
    return text


def wait_port(host, port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Cluster:
    """servers tritonservers and one nginx. start() starts them all (servers one after the other),
    stop() stops what is still running; usable as a context manager. Not thread-safe."""

    def __init__(self, root, servers, work, server_args=()):
        self.root = os.path.abspath(root)
        self.work = os.path.abspath(work)
        self.count = servers
        self.server_args = list(server_args)
        self.servers = []
        self.nginx = None
        self.port = None
        self.url = None

    def start(self):
        binary = local_server.find_server(self.root)
        if binary is None:
            raise FileNotFoundError("no tritonserver in %s" % local_server.shared_dir(self.root))
        if find_nginx() is None:
            raise FileNotFoundError("no %s (apt-get install nginx-light)" % NGINX)
        os.makedirs(self.work, exist_ok=True)
        backends = local_server.assemble_backends(self.root, os.path.join(self.root, "build", "deploy", "backends"))
        repo = make_repo(self.root, os.path.join(self.work, "repo"))
        try:
            for i in range(self.count):
                s = local_server.TritonServer(
                    binary, repo, backends, log_path=os.path.join(self.work, "server%d.log" % i),
                    args=["--model-control-mode=explicit"] + ["--load-model=%s" % m for m in MODELS]
                    + ["--http-header-forward-pattern", HEADER_PATTERN, "--exit-timeout-secs=5",
                       "--log-verbose=0"] + self.server_args)
                self.servers.append(s)
                s.start(timeout=180)
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_nginx(self):
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(self.work, "nginx-tmp", sub), exist_ok=True)
        for name in ("nginx-access.log", "nginx-error.log"):
            if os.path.exists(os.path.join(self.work, name)):
                os.unlink(os.path.join(self.work, name))
        self.port = local_server.free_port()
        self.url = "127.0.0.1:%d" % self.port
        conf = os.path.join(self.work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_config(os.path.join(HERE, "nginx.conf.in"), self.work, self.url,
                                 [s.http_url for s in self.servers]))
        log = open(os.path.join(self.work, "nginx.out"), "wb")
        try:
            self.nginx = subprocess.Popen(
                [NGINX, "-p", self.work, "-c", conf, "-e", os.path.join(self.work, "nginx-error.log")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        if not wait_port("127.0.0.1", self.port, self.nginx, 20):
            raise RuntimeError("nginx did not listen on %s; %s" % (self.url, self.nginx_errors()))

    def nginx_errors(self):
        out = []
        for name in ("nginx.out", "nginx-error.log"):
            try:
                with open(os.path.join(self.work, name), errors="replace") as f:
                    out.append(f.read()[-3000:])
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        """Stops nginx and every server still running; returns {index: exit code}."""
        codes = {}
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finishes the requests it holds
            try:
                self.nginx.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(timeout=10)
        for i, s in enumerate(self.servers):
            if s.running():
                try:
                    codes[i] = s.stop(timeout=60)
                except RuntimeError as e:
                    codes[i] = str(e)
        return codes

    def __enter__(self):
        return self.start() if not self.servers else self

    def __exit__(self, *exc):
        self.stop()
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3600, help="stop after this long")
    opts = parser.parse_args()
    with Cluster(ROOT, opts.servers, os.path.join(ROOT, "build", "deploy", "manual")) as c:
        print("nginx: http://%s (config %s)" % (c.url, os.path.join(c.work, "nginx.conf")))
        for i, s in enumerate(c.servers):
            print("server %d: http://%s  metrics http://%s/metrics" % (i, s.http_url, s.metrics_url))
        try:
            time.sleep(opts.seconds)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
