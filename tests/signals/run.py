"""The JVM's signals and the server's shutdown, in the real tritonserver (issue 14, item 0).

tritonserver installs its own SIGSEGV handler after our shim started the JVM; HotSpot takes SIGSEGV
in normal operation (safepoint polls), so an unchained handler kills the server. The safepoint
pressure agent (SafepointPressure.java) forces a GC every 2 ms and runs a hot loop, so a server
without chaining dies within milliseconds of Triton installing its handler.

  proof    the shim built without chaining (-DJAVA_ONNXRUNTIME_NO_SIGNAL_CHAINING) must crash
           ("Signal (11)" in its log: the JVM's fault reached Triton's handler, which kills the
           process or hangs in its stack trace); the real shim, same agent, must serve and stop
           cleanly.
  stress   STARTS server starts x REQUESTS requests per model (2 of ours, the same 2 on the stock
           backend, one client thread per model, every answer compared with the model's first),
           under the agent (a forced GC every GC_MS=5 ms); the
           starts take turns with two shutdowns: SIGTERM while the clients still send (closing
           each connection, as a draining load balancer does); SIGTERM with an idle client holding
           its keep-alive connection past --exit-timeout-secs (Triton then exits "immediately"
           while the models unload). Each must end by itself, with exit code 0 (1 for the
           expired timeout, Triton's own), and nothing in the log but log lines.
           SHUTDOWNS=busy-past-timeout (not in the default list) is a third: SIGTERM while
           keep-alive clients go on sending past the exit timeout, so that Triton tears its HTTP
           service down under live connections and exits under executing requests. Triton 2.70
           itself does not survive that: with STOCK_ONLY=1 (the stock backend alone, no JVM in
           the process) it dies with "Signal (11)" in some of those exits too (see the guide,
           "The JVM's signals and the server's shutdown"), so it can only be compared, not
           required to pass.
  threads  a model unloaded and loaded 8 times with requests in between (explicit model
           control): Triton's threads that end must leave the JVM (the JVM's thread count stops
           growing) and a thread dump (jcmd Thread.print) must not crash the server.

  tests/signals/run.py [proof] [threads] [stress]      (all by default; STARTS=20 REQUESTS=2000;
                  SHUTDOWNS=in-flight,idle-past-timeout[,busy-past-timeout]; STOCK_ONLY=1;
                  SIGNALS_WORK=DIR for a second run beside the first)

Prints one line per start and a last line "starts N, requests R, wrong 0, crashes 0, aborts 0,
hangs 0". Exit 1 when anything went wrong, 0 otherwise; skips (exit 0, one line) when the server
is absent, unless CI=true.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import local_server  # noqa: E402
import v2_binary  # noqa: E402

WORK = os.environ.get("SIGNALS_WORK", os.path.join(ROOT, "build", "signals"))
OURS = {"conv_net": ("input", "FP32", [1, 3, 224, 224], "logits"),
        "text_encoder": ("input_ids", "INT64", [1, 128], "pooled")}
STOCK = {"conv_net_stock": OURS["conv_net"], "text_encoder_stock": OURS["text_encoder"]}
# What a crash, an abort or a corrupted heap leaves in the log (stdout and stderr together).
FATAL = re.compile(r"Signal \((?:4|6|7|8|11)\) received|double free|corrupted|free\(\): |malloc\(\)|Aborted|"
                   r"A fatal error has been detected|hs_err_pid|terminate called|Segmentation fault")


def build_agent():
    """safepoint-pressure.jar from SafepointPressure.java (javac and jar of the build's JDK)."""
    classes = os.path.join(WORK, "agent")
    os.makedirs(classes, exist_ok=True)
    jar = os.path.join(WORK, "safepoint-pressure.jar")
    subprocess.run(["javac", "-d", classes, os.path.join(HERE, "SafepointPressure.java")], check=True)
    manifest = os.path.join(classes, "MANIFEST.MF")
    with open(manifest, "w") as f:
        f.write("Premain-Class: SafepointPressure\n")
    subprocess.run(["jar", "cfm", jar, manifest, "-C", classes, "SafepointPressure.class"], check=True)
    return jar


def build_unchained_backends():
    """A backend directory whose shim has no signal chaining (the same jars, symlinked)."""
    ours = os.path.join(ROOT, "build", "backends", "java_onnxruntime")
    native = os.path.join(WORK, "native-unchained")
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), "BUILD=" + native,
                    "CPPFLAGS=-DJAVA_ONNXRUNTIME_NO_SIGNAL_CHAINING"], check=True)
    dest = os.path.join(WORK, "backends-unchained", "java_onnxruntime")
    shutil.rmtree(os.path.dirname(dest), ignore_errors=True)
    os.makedirs(dest)
    for name in os.listdir(ours):
        if name.endswith(".jar"):
            os.symlink(os.path.join(ours, name), os.path.join(dest, name))
    shutil.copy(os.path.join(native, "libtriton_java_onnxruntime.so"), dest)
    shutil.copy(os.path.join(ours, "libcjson.so.1"), dest)
    return os.path.dirname(dest)


def served(models):
    """OURS, or none of them with STOCK_ONLY=1: the stress on the stock backend alone, to tell a
    crash of Triton's own shutdown from one of ours."""
    return {} if os.environ.get("STOCK_ONLY") == "1" else models


def build_repository():
    """Our example models of OURS, and the same models again (name_stock) for the stock backend."""
    repo = os.path.join(WORK, "repo")
    shutil.rmtree(repo, ignore_errors=True)
    for model in served(OURS):
        shutil.copytree(os.path.join(ROOT, "model_repository", model), os.path.join(repo, model))
    for model in STOCK:
        source = model[: -len("_stock")]
        shutil.copytree(os.path.join(ROOT, "model_repository", source), os.path.join(repo, model))
        path = os.path.join(repo, model, "config.pbtxt")
        with open(path) as f:
            config = f.read()
        config = config.replace('name: "%s"' % source, 'name: "%s"' % model)
        config = config.replace('backend: "java_onnxruntime"', 'backend: "onnxruntime"')
        with open(path, "w") as f:
            f.write(config)
    return repo


def request_body(model, seed):
    """A binary request to one model of OURS or STOCK, its output asked for as binary."""
    name, dtype, shape, output = {**OURS, **STOCK}[model]
    return v2_binary.request({name: (dtype, shape, v2_binary.tensor(dtype, shape, seed))}, [output])


class Client(threading.Thread):
    """One keep-alive connection to one model: sends until count or stop, compares every answer
    with the first. A refused or dropped connection after stop was asked is expected."""

    def __init__(self, url, model, count, stop, *, keep_alive=True):
        super().__init__(daemon=True)
        self.url, self.model, self.count, self.stop = url, model, count, stop
        self.keep_alive = keep_alive
        self.stopping = threading.Event()  # set just before the server is signalled
        self.sent = self.answered = self.wrong = self.refused = 0
        self.errors = []

    def run(self):
        body, headers = request_body(self.model, 3)
        if not self.keep_alive:
            headers["Connection"] = "close"
        first = None
        host, port = self.url.split(":")
        conn = None
        try:
            while self.sent < self.count and not self.stop.is_set():
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=60)
                try:
                    conn.request("POST", "/v2/models/%s/infer" % self.model, body, headers)
                except ConnectionRefusedError:
                    if not self.stopping.is_set():
                        raise
                    break
                    self.refused += 1  # the server stopped accepting: expected once signalled
                self.sent += 1
                response = conn.getresponse()
                answer = response.read()
                if not self.keep_alive:
                    conn.close()
                    conn = None
                if response.status != 200:
                    self.errors.append("%s: %d %s" % (self.model, response.status, answer[:200]))
                    continue
                self.answered += 1
                tensor = answer[int(response.getheader(v2_binary.HEADER_LENGTH)):]
                if first is None:
                    first = tensor
                elif tensor != first:
                    self.wrong += 1
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as e:
            if not self.stopping.is_set():
                self.errors.append("%s: %s: %s" % (self.model, type(e).__name__, e))
            else:
                self.refused += 1  # a connection the stopping server closed instead of serving
        except (OSError, http.client.HTTPException) as e:
            self.errors.append("%s: %s%s: %s" % (
                self.model, "after SIGTERM: " if self.stopping.is_set() else "", type(e).__name__, e))
        finally:
            if conn is not None:
                conn.close()


def check_log(server):
    log = server.log()
    fatal = sorted(set(m.group(0) for m in FATAL.finditer(log)))
    return fatal


def one_start(index, binary, repo, backends, agent, requests, shutdown):
    """One server start, the clients, one shutdown. Returns (requests, wrong, verdict, detail)."""
    log = os.path.join(WORK, "logs", "start-%02d-%s.log" % (index, shutdown))
    # Clients in flight close each connection (a draining load balancer does): the server's HTTP
    # stop then ends in time and the models unload before the exit. The idle client's held
    # connection uses up the whole exit timeout: Triton exits "immediately" under the unload.
    # Busy clients keep sending on their connections through the exit timeout: Triton exits
    # "immediately" under requests still executing and the unload.
    exit_timeout = 30 if shutdown == "in-flight" else 3
    server = local_server.TritonServer(
        binary, repo, backends, log_path=log,
        args=["--exit-timeout-secs=%d" % exit_timeout],
        backend_config=["java_onnxruntime,jvm-options=-javaagent:%s=%s"
                        % (agent, os.environ.get("GC_MS", "5"))])
    server.start(timeout=180)
    stop = threading.Event()
    clients = [Client(server.http_url, m, requests, stop, keep_alive=shutdown != "in-flight")
               for m in list(served(OURS)) + list(STOCK)]
    for c in clients:
        c.start()
    idle = None
    if shutdown in ("in-flight", "busy-past-timeout"):
        # SIGTERM once every client is past half of its requests: they are still sending.
        deadline = time.monotonic() + 600
        while min(c.answered for c in clients) < requests // 2 and time.monotonic() < deadline:
            if not server.running():
                break
            time.sleep(0.05)
    else:
        for c in clients:
            c.join(timeout=600)
        # An idle client: one request answered, then the connection is held open.
        host, port = server.http_url.split(":")
        idle = socket.create_connection((host, int(port)))
        idle.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.recv(4096)
    crashed_before = not server.running()
    for c in clients:
        c.stopping.set()
    code = None
    verdict = "ok"
    try:
        code = server.stop(timeout=60)
    except RuntimeError:
        verdict = "hang"
    stop.set()
    for c in clients:
        c.join(timeout=60)
    if idle is not None:
        idle.close()
    fatal = check_log(server)
    expected = (0,) if shutdown == "in-flight" else (0, 1)
    if verdict == "ok":
        if crashed_before or fatal and any("Signal (11)" in f or "Segmentation" in f for f in fatal):
            verdict = "crash"
        elif fatal or code not in expected:
            verdict = "abort"
    sent = sum(c.sent for c in clients)
    wrong = sum(c.wrong for c in clients)
    errors = [e for c in clients for e in c.errors]
    detail = "exit %s, %d sent, %d answered, %d wrong, %d refused or closed after SIGTERM, %d errors%s%s" % (
        code, sent, sum(c.answered for c in clients), wrong, sum(c.refused for c in clients), len(errors),
        (": " + "; ".join(errors[:4])) if errors else "", (", log: " + "; ".join(fatal)) if fatal else "")
    if errors and verdict == "ok":
        verdict = "errors"
    return sent, wrong, verdict, detail


def proof(binary, repo, backends, agent):
    """The unchained shim dies under the agent; the real one does not."""
    unchained = build_unchained_backends()
    # The stock backend is not needed here: a repository of ours only.
    ours_only = os.path.join(WORK, "repo-ours")
    shutil.rmtree(ours_only, ignore_errors=True)
    shutil.copytree(os.path.join(repo, "conv_net"), os.path.join(ours_only, "conv_net"))
    libjsig = os.path.join(local_server.default_java_home(), "lib", "libjsig.so")
    preload = dict(os.environ, LD_PRELOAD=libjsig)
    results = []
    for label, directory, env in (("unchained", unchained, None),
                                  ("unchained with libjsig.so preloaded", unchained, preload),
                                  ("chained", backends, None)):
        log = os.path.join(WORK, "logs", "proof-%s%s.log" % (label.split()[0], "-libjsig" if env else ""))
        server = local_server.TritonServer(
            binary, ours_only, directory, log_path=log, env=env,
            backend_config=["java_onnxruntime,jvm-options=-javaagent:%s=2" % agent])
        died = False
        try:
            server.start(timeout=180)
            stop = threading.Event()
            client = Client(server.http_url, "conv_net", 300, stop)
            client.start()
            client.join(timeout=300)
            died = not server.running()
            if not died:
                server.stop(timeout=60)
        except RuntimeError:
            died = True
        results.append((label, died, check_log(server), log))
    ok = True
    for label, died, fatal, log in results:
        want = label == "unchained"  # only the shim without chaining, and no libjsig, crashes
        # A crash is the JVM's SIGSEGV reaching Triton's handler. That handler prints a stack
        # trace and re-raises; it can also hang in the trace (a JIT frame), and the process then
        # ends at SIGTERM through the exit guard instead of by the signal.
        crashed = any("Signal (11)" in f for f in fatal)
        line = "signals proof: %s shim under safepoint pressure: %s%s" % (
            label, ("crashed, then " if crashed else "") + ("died" if died else "served and stopped"),
            (" (" + "; ".join(fatal) + ")") if fatal else "")
        if crashed != want or (not want and (fatal or died)):
            line += "  <-- UNEXPECTED, log " + log
            ok = False
        print(line, flush=True)
    return ok


def jvm_threads(pid):
    """The threads the JVM lists (jcmd Thread.print), or None when jcmd fails."""
    jcmd = os.path.join(local_server.default_java_home(), "bin", "jcmd")
    r = subprocess.run([jcmd, str(pid), "Thread.print"], capture_output=True, text=True, timeout=120)
    return len(re.findall(r'^"', r.stdout, re.M)) if r.returncode == 0 else None


def threads(binary, repo, backends):
    """Reloading a model replaces Triton's instance threads: the JVM must not keep the old ones."""
    log = os.path.join(WORK, "logs", "threads.log")
    server = local_server.TritonServer(binary, repo, backends, log_path=log,
                                       args=["--model-control-mode=explicit", "--load-model=text_encoder"])
    server.start(timeout=180)
    body, headers = request_body("text_encoder", 1)
    host, port = server.http_url.split(":")
    counts, error = [], None
    try:
        for cycle in range(8):
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            for action in ("unload", "load"):
                conn.request("POST", "/v2/repository/models/text_encoder/" + action, b"{}")
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError("%s: HTTP %d" % (action, r.status))
            for _ in range(4):
                conn.request("POST", "/v2/models/text_encoder/infer", body, headers)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError("infer after reload: HTTP %d" % r.status)
            conn.close()
            counts.append(jvm_threads(server.proc.pid) if server.running() else None)
    except (OSError, RuntimeError, http.client.HTTPException) as e:
        error = "%s: %s" % (type(e).__name__, e)
    finally:
        alive = server.running()
        code = server.stop(timeout=60) if alive else server.proc.poll()
    # Triton's load threads come from a pool that fills in the first cycles; from then on an
    # instance thread that ended must have left the JVM.
    ok = (error is None and alive and code == 0 and None not in counts and counts[-1] - counts[2] <= 1
          and not check_log(server))
    print("signals threads: JVM threads after each of 8 reloads %s; thread dumps %s; server %s, exit %s%s%s" % (
        counts, "ok" if None not in counts else "FAILED", "alive" if alive else "DIED", code,
        ", " + error if error else "", "" if ok else "  <-- UNEXPECTED, log " + log), flush=True)
    return ok


def stress(binary, repo, backends, agent):
    starts = int(os.environ.get("STARTS", "20"))
    requests = int(os.environ.get("REQUESTS", "2000"))
    shutdowns = os.environ.get("SHUTDOWNS", "in-flight,idle-past-timeout").split(",")
    counts = {"crash": 0, "abort": 0, "hang": 0, "errors": 0}
    total = wrong = 0
    for i in range(starts):
        shutdown = shutdowns[i % len(shutdowns)]
        t0 = time.monotonic()
        sent, bad, verdict, detail = one_start(i + 1, binary, repo, backends, agent, requests, shutdown)
        total += sent
        wrong += bad
        if verdict in counts:
            counts[verdict] += 1
        print("signals stress: start %2d/%d, %-17s %s in %.0f s: %s" % (
            i + 1, starts, shutdown, verdict, time.monotonic() - t0, detail), flush=True)
    print("starts %d, requests %d, wrong %d, crashes %d, aborts %d, hangs %d, client errors %d" % (
        starts, total, wrong, counts["crash"], counts["abort"], counts["hang"], counts["errors"]))
    return wrong == 0 and not any(counts.values())


def main(argv):
    parts = argv or ["proof", "threads", "stress"]
    binary = local_server.find_server(ROOT)
    if binary is None:
        return local_server.absent("signals", "no real tritonserver at %s" % local_server.shared_dir(ROOT),
                                   "make test-signals (with ../shared/tritonserver-2.70 beside the checkout)")
    os.makedirs(os.path.join(WORK, "logs"), exist_ok=True)
    agent = build_agent()
    repo = build_repository()
    backends = local_server.assemble_backends(ROOT, os.path.join(ROOT, "build", "triton-backends"))
    ok = True
    if "proof" in parts:
        ok = proof(binary, repo, backends, agent) and ok
    if "threads" in parts:
        ok = threads(binary, repo, backends) and ok
    if "stress" in parts:
        ok = stress(binary, repo, backends, agent) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
