"""SIGTERM to the real tritonserver while clients have requests in flight.

Starts a server of its own (local_server.TritonServer) with conv_net and text_encoder, lets 4
clients send, signals SIGTERM while their requests are in flight, lets each client finish the
request it has in flight and then close its connection (as a client that is told the server is
going away does), and checks: every request was answered (the reference outputs, or an error),
the server exits with 0 within its exit timeout, and its log shows both models unloaded and no
crash (no "Signal (11)", no abort, no double free).

Clients that keep sending through the whole exit timeout make Triton give up ("Exit timeout
expired. Exiting immediately.") while our models are still loaded: that shutdown is issue 14
item 0's and not asserted here.

Settings (environment, run_local.py sets them): TRITON_SERVER_BIN, TRITON_BACKENDS,
MODEL_REPOSITORY, TESTDATA, TRITON_TEST_WORK (for the log). Unset: skipped.
"""

import os
import signal
import sys
import threading
import time
import unittest

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import local_server  # noqa: E402

SETTINGS = ("TRITON_SERVER_BIN", "TRITON_BACKENDS", "MODEL_REPOSITORY", "TESTDATA", "TRITON_TEST_WORK")
CRASH_MARKS = ("Signal (11)", "Signal (6)", "double free", "corrupted", "Aborted", "SIGSEGV", "hs_err_pid")
MODELS = ("conv_net", "text_encoder")
CLIENTS = 4


def setUpModule():
    absent = [s for s in SETTINGS if not os.environ.get(s)]
    if absent:
        raise unittest.SkipTest("needs a local tritonserver (%s unset; run_local.py sets them)" % ", ".join(absent))


class SigtermInFlight(unittest.TestCase):

    def test_requests_in_flight_are_answered_and_the_server_exits_cleanly(self):
        env = os.environ
        server = local_server.TritonServer(
            env["TRITON_SERVER_BIN"], env["MODEL_REPOSITORY"], env["TRITON_BACKENDS"],
            args=["--model-control-mode=explicit", "--exit-timeout-secs=60"]
            + ["--load-model=%s" % m for m in MODELS],
            log_path=os.path.join(env["TRITON_TEST_WORK"], "sigterm.log"))
        cases = []
        for model in MODELS:
            tensors = helpers.load_request(os.path.join(env["TESTDATA"], model, "request_b3.json"))
            expected = helpers.load_expected(os.path.join(env["TESTDATA"], model, "expected_b3.json"))
            cases.append((model, tensors, expected))
        signalled = threading.Event()
        started = [0] * CLIENTS      # requests each client has begun
        answers = [[] for _ in range(CLIENTS)]

        def send(i):
            c = httpclient.InferenceServerClient(server.http_url, network_timeout=120)
            try:
                for n in range(5000):  # bounded; the signal ends it first
                    if signalled.is_set():
                        return  # the request in flight at the signal was answered: go away
                    model, tensors, (expected, rtol, atol) = cases[(i + n) % len(cases)]
                    inputs = []
                    for t in tensors:
                        x = httpclient.InferInput(t.name, t.shape, t.datatype)
                        x.set_data_from_numpy(np.ascontiguousarray(t.array))
                        inputs.append(x)
                    started[i] += 1
                    try:
                        result = c.infer(model, inputs)
                        problems = [helpers.mismatch(e, result.as_numpy(e.name), rtol, atol) for e in expected]
                        problems = [p for p in problems if p]
                        answers[i].append("wrong: %s" % problems if problems else "ok")
                    except InferenceServerException as e:
                        answers[i].append("error: %s" % e.message())
                    except OSError as e:  # the server closed the connection: an answer too
                        answers[i].append("closed: %s" % e)
                        return
            finally:
                c.close()

        server.start(timeout=180)
        threads = [threading.Thread(target=send, args=(i,)) for i in range(CLIENTS)]
        try:
            for t in threads:
                t.start()
            deadline = time.monotonic() + 120
            while not all(len(a) >= 3 for a in answers):
                self.assertLess(time.monotonic(), deadline, "clients got no answers: %s" % answers)
                self.assertTrue(server.running(), server.log()[-3000:])
                time.sleep(0.05)
            server.proc.send_signal(signal.SIGTERM)
            signalled.set()
            for t in threads:
                t.join(timeout=180)
            self.assertFalse(any(t.is_alive() for t in threads), "a client is still waiting for an answer")
            server.proc.wait(timeout=120)  # raises TimeoutExpired: the finally kills it
            code = server.stop()
        finally:
            signalled.set()
            if server.running():
                server.stop(signal.SIGKILL, timeout=30)
        log = server.log()
        everything = [x for a in answers for x in a]
        self.assertEqual([], [x for x in everything if x.startswith("wrong")])
        self.assertEqual([], [x for x in everything if x.startswith("error") and len(x) < 12], "an error without a message")
        self.assertEqual(sum(started), len(everything), "a request got no answer")
        self.assertEqual([], [m for m in CRASH_MARKS if m in log], log[-4000:])
        self.assertEqual(0, code, log[-4000:])
        for model in MODELS:
            self.assertIn("successfully unloaded '%s'" % model, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
