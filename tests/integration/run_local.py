"""tests/integration in the real tritonserver on this machine (``make test-triton``, part of
``make test``).

Needs ../shared beside the checkout (tritonserver-2.70: the CPU build and the stock ONNX Runtime
backend; tritonclient: NVIDIA's Python client) and build/backends/java_onnxruntime (``make
build``). Without ../shared it prints one line saying so and exits 0; with CI=true that is a
failure. It prepares, under build/triton-tests/:

  backends/   our backend (a symlink) beside Triton's stock onnxruntime backend
  repo-stock/ every example model as <model>_stock with backend "onnxruntime" (same ONNX file,
              our backend's parameters removed), the auto-complete models (a config that names
              only the backend), for test_differential.py and test_server.py, and conv_net again
              with input_cache "off" and "content" for test_shared_memory.py
  *.log       the servers' logs (printed in part when something fails)

then starts one server (explicit model control, every model loaded, client shared memory
allowed) for test_server.py, test_differential.py and test_shared_memory.py; test_shutdown.py
and test_batch_isolation.py start servers of their own.
The last line is the summary: ``triton-server: N passed, N failed, N skipped``.

    /usr/bin/python3 tests/integration/run_local.py [-k PATTERN] [-v]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import local_server  # noqa: E402

WORK = os.path.join(ROOT, "build", "triton-tests")
STOCK_SUFFIX = "_stock"
# Auto-complete: (model name, backend, ONNX file taken from this example model).
AUTOCOMPLETE = [("autocomplete_conv_net", "java_onnxruntime", "conv_net"),
                ("autocomplete_conv_net_stock", "onnxruntime", "conv_net")]
# Our backend again on an example model's ONNX file with one input cache mode for every input
# (on KIND_CPU the default, auto, never hashes): (model name, example model, input_cache).
CACHE_VARIANTS = [("conv_net_cache_off", "conv_net", "off"), ("conv_net_cache_content", "conv_net", "content")]
SUITES = ["test_server", "test_differential", "test_shared_memory", "test_shutdown", "test_batch_isolation",
          "test_fault_injection"]
HOW = "make test-triton (in a checkout with ../shared/tritonserver-2.70 and ../shared/tritonclient beside it)"


def stock_config(text, name):
    """An example model's config.pbtxt for the stock backend under another name: backend
    "onnxruntime", our backend's parameters { ... } entries dropped, comments dropped, and every
    `optional: true` dropped. (Optional inputs are how our backend takes a named key instead of
    the data; the stock backend refuses a config that declares optional an input the ONNX model
    needs: "configuration expects 1 inputs, model provides 2".)"""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "optional: true":
            continue
        if stripped.startswith("#") or stripped.startswith("parameters"):
            if stripped.startswith("parameters") and stripped.count("{") != stripped.count("}"):
                raise ValueError("multi-line parameters entry in %s: not handled" % name)
            continue
        line = re.sub(r'^name:\s*".*"', 'name: "%s"' % name, line)
        line = re.sub(r'^backend:\s*"java_onnxruntime"', 'backend: "onnxruntime"', line)
        out.append(line)
    return "\n".join(out) + "\n"


def cache_variant_config(text, name, mode):
    """An example model's config.pbtxt for our backend under another name, with input_cache."""
    text = re.sub(r'^name:\s*".*"', 'name: "%s"' % name, text, flags=re.M)
    if not re.search(r'^backend:\s*"java_onnxruntime"', text, flags=re.M):
        raise ValueError("%s: not a java_onnxruntime config" % name)
    return text + 'parameters { key: "input_cache" value: { string_value: "%s" } }\n' % mode


def make_stock_repo(src, dest):
    """dest/<model>_stock for each example model of src, the auto-complete models and the cache
    variants."""
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    models = sorted(m for m in os.listdir(src) if os.path.isfile(os.path.join(src, m, "config.pbtxt")))
    for m in models:
        with open(os.path.join(src, m, "config.pbtxt")) as f:
            config = stock_config(f.read(), m + STOCK_SUFFIX)
        os.makedirs(os.path.join(dest, m + STOCK_SUFFIX, "1"))
        with open(os.path.join(dest, m + STOCK_SUFFIX, "config.pbtxt"), "w") as f:
            f.write(config)
        shutil.copyfile(os.path.join(src, m, "1", "model.onnx"),
                        os.path.join(dest, m + STOCK_SUFFIX, "1", "model.onnx"))
    for name, backend, source in AUTOCOMPLETE:
        os.makedirs(os.path.join(dest, name, "1"))
        with open(os.path.join(dest, name, "config.pbtxt"), "w") as f:
            f.write('backend: "%s"\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n' % backend)
        shutil.copyfile(os.path.join(src, source, "1", "model.onnx"), os.path.join(dest, name, "1", "model.onnx"))
    for name, source, mode in CACHE_VARIANTS:
        with open(os.path.join(src, source, "config.pbtxt")) as f:
            config = cache_variant_config(f.read(), name, mode)
        os.makedirs(os.path.join(dest, name, "1"))
        with open(os.path.join(dest, name, "config.pbtxt"), "w") as f:
            f.write(config)
        shutil.copyfile(os.path.join(src, source, "1", "model.onnx"), os.path.join(dest, name, "1", "model.onnx"))
    return models


def with_tritonclient():
    """Re-executes this script with ../shared/tritonclient on PYTHONPATH when needed."""
    client = os.path.normpath(os.path.join(ROOT, "..", "shared", "tritonclient"))
    try:
        import tritonclient.http  # noqa: F401
        return None
    except ImportError:
        pass
    if not os.path.isdir(os.path.join(client, "tritonclient")) or os.environ.get("_RUN_LOCAL_REEXEC"):
        return "no tritonclient (%s)" % client
    env = dict(os.environ, _RUN_LOCAL_REEXEC="1")
    env["PYTHONPATH"] = client + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="patterns", action="append", help="only tests matching (unittest -k)")
    parser.add_argument("-v", dest="verbosity", action="store_const", const=2, default=1)
    parser.add_argument("--child", metavar="SUMMARY", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        return run_child(opts.child, opts.patterns, opts.verbosity)

    binary = local_server.find_server(ROOT)
    if binary is None:
        server_path = os.path.join(local_server.shared_dir(ROOT), "cpu", "bin", "tritonserver")
        return local_server.absent("triton-server", "no %s" % server_path, HOW)
    problem = with_tritonclient()
    if problem:
        return local_server.absent("triton-server", problem, HOW)
    testdata = os.path.join(ROOT, "build", "testdata")
    repo = os.path.join(ROOT, "model_repository")
    if not os.path.isdir(testdata) or not os.path.isfile(os.path.join(repo, "conv_net", "1", "model.onnx")):
        print("triton-server: FAILED: no example models or build/testdata: run make models", file=sys.stderr)
        return 1

    backends = local_server.assemble_backends(ROOT, os.path.join(WORK, "backends"))
    stock_repo = os.path.join(WORK, "repo-stock")
    models = make_stock_repo(repo, stock_repo)

    server = local_server.TritonServer(
        binary, repo, backends, log_path=os.path.join(WORK, "server.log"),
        args=["--model-repository", stock_repo, "--model-control-mode=explicit", "--load-model=*",
              "--allow-client-shm=true", "--exit-timeout-secs=30", "--log-verbose=0"])
    print("triton-server: starting %s (log %s)" % (binary, server.log_path), flush=True)
    server.start(timeout=180)
    os.environ.update({
        "TRITON_HTTP_URL": server.http_url,
        "TRITON_METRICS_URL": server.metrics_url,
        "TESTDATA": testdata,
        "EXPECT_KIND": "cpu",
        "TRITON_MODEL_CONTROL": "explicit",
        "TRITON_CLIENT_SHM": "1",
        "STOCK_SUFFIX": STOCK_SUFFIX,
        "EXAMPLE_MODELS": ",".join(models),
        "TRITON_SERVER_BIN": binary,
        "TRITON_BACKENDS": backends,
        "TRITON_TEST_WORK": WORK,
        "MODEL_REPOSITORY": repo,
    })
    # The tests run in a child process: when it exits, every client connection it opened is
    # closed, so the SIGTERM below finds an idle server (an idle keep-alive connection would hold
    # Triton's exit for --exit-timeout-secs, after which it exits with models still loaded).
    summary = os.path.join(WORK, "summary.json")
    if os.path.exists(summary):
        os.unlink(summary)
    child = [sys.executable, os.path.abspath(__file__), "--child", summary, "-v" * (opts.verbosity > 1)]
    for p in opts.patterns or ():
        child += ["-k", p]
    try:
        subprocess.run([a for a in child if a], check=False, timeout=1200)
    except subprocess.TimeoutExpired:
        print("triton-server: the tests ran past 20 minutes", file=sys.stderr)
    failures = []
    alive = server.running()
    try:
        code = server.stop(signal.SIGTERM, timeout=90)
        if not alive:
            failures.append("the server died during the tests (exit code %d)" % code)
        elif code != 0:
            failures.append("the server exited with %d on SIGTERM" % code)
    except RuntimeError as e:
        failures.append(str(e).splitlines()[0])
    try:
        with open(summary) as f:
            counts = json.load(f)
    except (OSError, ValueError):
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        failures.append("the tests did not finish (no %s)" % summary)
    for f in failures:
        print("triton-server: %s" % f, file=sys.stderr)
    failed = counts["failed"] + len(failures)
    if failed:
        print("---- tail of %s" % server.log_path)
        print("".join(server.log().splitlines(True)[-80:]))
    print("triton-server: %d passed, %d failed, %d skipped" % (counts["passed"], failed, counts["skipped"]))
    return 1 if failed else 0


def run_child(summary, patterns, verbosity):
    """The test suites against the server the parent started (settings in the environment);
    writes {"passed", "failed", "skipped"} to summary."""
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p if "*" not in p else p for p in patterns]
    suite = unittest.TestSuite(loader.loadTestsFromName(name) for name in SUITES)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity).run(suite)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    with open(summary, "w") as f:
        json.dump({"passed": result.testsRun - failed - skipped, "failed": failed, "skipped": skipped}, f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
