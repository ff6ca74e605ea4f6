"""Cleanup steps that fail, in the real tritonserver: every request is still answered once.

Starts a server of its own with conv_net (ours, one instance) beside conv_net_stock (Triton's
stock backend), with the backend's fault seam armed through jvm-options
(-Djava_onnxruntime.test.fault=...): the 3rd Execute's release of what it pinned fails, the 6th
response cannot be sent, the 9th release is refused (tried again), the 12th release fails after
it happened (not tried again), the 15th metrics publish and the 18th response fail after the fact;
at shutdown the instance's session close, the model's close and the backend's ONNX Runtime close
fail. The JVM runs with Epsilon, a garbage collector that never collects.

Checks: 24 requests sent one after another each get one answer, the reference outputs except the
3rd and 6th, which get the fault's error (HTTP 500); the stock model beside ours answers every
request; Triton's statistics count 22 successes and 2 failures in 24 executions; the server exits
with 0 on SIGTERM, both models unloaded, no crash, every close failure in the log, and the
backend's finalize finds JavaCPP counting 0 bytes in 0 pointers without any GC.

Settings (environment, run_local.py sets them): TRITON_SERVER_BIN, TRITON_BACKENDS,
MODEL_REPOSITORY, TESTDATA, TRITON_TEST_WORK. Unset: skipped.
"""

import json
import os
import shutil
import signal
import sys
import unittest
import urllib.request

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import local_server  # noqa: E402
import run_local  # noqa: E402

SETTINGS = ("TRITON_SERVER_BIN", "TRITON_BACKENDS", "MODEL_REPOSITORY", "TESTDATA", "TRITON_TEST_WORK")
CRASH_MARKS = ("Signal (11)", "Signal (6)", "double free", "corrupted", "Aborted", "SIGSEGV", "hs_err_pid")
REQUESTS = 24
# step@n: the n-th time the step is reached it throws (java-backend lifecycle.Faults).
FAULTS = ["execute.stager-finish@3", "response.send@6", "request.release@9", "request.released@12",
          "execute.metrics@15", "response.sent@18",
          "instance.close.session@1", "model.close.unload@1", "backend.close.ort@1"]
FAILED = {3: "execute.stager-finish", 6: "response.send"}  # 1-based request: the fault it gets
NO_GC = "-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xms1g -Xmx1g"


def setUpModule():
    absent = [s for s in SETTINGS if not os.environ.get(s)]
    if absent:
        raise unittest.SkipTest("needs a local tritonserver (%s unset; run_local.py sets them)" % ", ".join(absent))


def fault_repository(work, source):
    """conv_net (ours) and conv_net_stock, one instance each."""
    repo = os.path.join(work, "repo-faults")
    shutil.rmtree(repo, ignore_errors=True)
    with open(os.path.join(source, "conv_net", "config.pbtxt")) as f:
        config = f.read().replace("count: 2", "count: 1")
    assert "count: 1" in config, "conv_net's config.pbtxt no longer has two instances"
    for name, text in (("conv_net", config), ("conv_net_stock", run_local.stock_config(config, "conv_net_stock"))):
        os.makedirs(os.path.join(repo, name, "1"))
        shutil.copy(os.path.join(source, "conv_net", "1", "model.onnx"), os.path.join(repo, name, "1"))
        with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
            f.write(text)
    return repo


class CleanupFailures(unittest.TestCase):

    def test_every_request_is_answered_once_and_the_server_goes_on_and_exits_cleanly(self):
        env = os.environ
        server = local_server.TritonServer(
            env["TRITON_SERVER_BIN"], fault_repository(env["TRITON_TEST_WORK"], env["MODEL_REPOSITORY"]),
            env["TRITON_BACKENDS"], args=["--exit-timeout-secs=30"],
            backend_config=["java_onnxruntime,jvm-options=%s -Djava_onnxruntime.test.fault=%s"
                            % (NO_GC, ",".join(FAULTS))],
            log_path=os.path.join(env["TRITON_TEST_WORK"], "faults.log"))
        tensors = helpers.load_request(os.path.join(env["TESTDATA"], "conv_net", "request_b1.json"))
        expected, rtol, atol = helpers.load_expected(os.path.join(env["TESTDATA"], "conv_net", "expected_b1.json"))
        answers = {"conv_net": [], "conv_net_stock": []}
        server.start(timeout=180)
        try:
            client = httpclient.InferenceServerClient(server.http_url, network_timeout=60)
            try:
                for n in range(1, REQUESTS + 1):
                    for model in answers:
                        answers[model].append(self.infer(client, model, tensors, expected, rtol, atol))
                    self.assertTrue(server.running(), server.log()[-3000:])
            finally:
                client.close()
            with urllib.request.urlopen("http://%s/v2/models/conv_net/stats" % server.http_url, timeout=10) as r:
                stats = json.load(r)["model_stats"][0]
        finally:
            code = server.stop(signal.SIGTERM, timeout=90) if server.running() else server.proc.returncode
        log = server.log()

        for n, answer in enumerate(answers["conv_net"], start=1):
            if n in FAILED:
                self.assertTrue(answer.startswith("error: ") and "injected fault at " + FAILED[n] in answer,
                                "request %d: %s" % (n, answer))
            else:
                self.assertEqual("ok", answer, "request %d" % n)
        self.assertEqual(["ok"] * REQUESTS, answers["conv_net_stock"])
        inference = stats["inference_stats"]
        self.assertEqual((REQUESTS - len(FAILED), len(FAILED)),
                         (int(inference["success"]["count"]), int(inference["fail"]["count"])), stats)
        self.assertEqual(REQUESTS, int(stats["execution_count"]), stats)

        self.assertEqual([], [m for m in CRASH_MARKS if m in log], log[-4000:])
        self.assertEqual(0, code, log[-4000:])
        for model in answers:
            self.assertIn("successfully unloaded '%s'" % model, log)
        for fault in FAULTS:
            self.assertIn("injected fault at " + fault.split("@")[0], log, "not reached or not logged")
        self.assertNotIn("test faults armed but never reached", log)
        self.assertIn("native memory after finalize: 0 bytes held by the backend in host memory, "
                      "JavaCPP counts 0 bytes in 0 pointers", log)

    @staticmethod
    def infer(client, model, tensors, expected, rtol, atol):
        """"ok", "wrong: ...", or "error: <message>" for one request."""
        inputs = []
        for t in tensors:
            x = httpclient.InferInput(t.name, t.shape, t.datatype)
            x.set_data_from_numpy(np.ascontiguousarray(t.array))
            inputs.append(x)
        try:
            result = client.infer(model, inputs)
        except InferenceServerException as e:
            return "error: %s" % e.message()
        problems = [p for p in (helpers.mismatch(e, result.as_numpy(e.name), rtol, atol) for e in expected) if p]
        return "wrong: %s" % problems if problems else "ok"


if __name__ == "__main__":
    unittest.main()
