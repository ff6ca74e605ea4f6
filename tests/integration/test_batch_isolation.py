"""One bad request in a dynamic batch, in the real tritonserver: it alone gets the error.

Starts a server of its own with text_encoder for both backends and a long batching window
(500 ms), so that a good request and a bad one (every token id out of the embedding's range,
which ONNX Runtime refuses at run time) sent at once meet in one batch. Ours answers the good one
with its reference output and the bad one with an error; Triton's stock backend fails both (it
runs the batch once), a difference on purpose: a bad request must not cost its neighbours.

Settings (environment, run_local.py sets them): TRITON_SERVER_BIN, TRITON_BACKENDS,
MODEL_REPOSITORY, TESTDATA, TRITON_TEST_WORK. Unset: skipped.
"""

import json
import os
import shutil
import sys
import threading
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
import local_server  # noqa: E402
import run_local  # noqa: E402

SETTINGS = ("TRITON_SERVER_BIN", "TRITON_BACKENDS", "MODEL_REPOSITORY", "TESTDATA", "TRITON_TEST_WORK")
WINDOW = "max_queue_delay_microseconds: 500000"


def setUpModule():
    absent = [s for s in SETTINGS if not os.environ.get(s)]
    if absent:
        raise unittest.SkipTest("needs a local tritonserver (%s unset; run_local.py sets them)" % ", ".join(absent))


def batching_repository(work, source):
    """text_encoder (ours) and text_encoder_stock, one instance each, a 500 ms batching window."""
    repo = os.path.join(work, "repo-batching")
    shutil.rmtree(repo, ignore_errors=True)
    with open(os.path.join(source, "text_encoder", "config.pbtxt")) as f:
        config = f.read()
    config = config.replace("max_queue_delay_microseconds: 2000", WINDOW)
    config = config.replace("count: 2", "count: 1")
    assert WINDOW in config, "text_encoder's config.pbtxt no longer has a 2000 us batching window"
    for name, text in (("text_encoder", config),
                       ("text_encoder_stock", run_local.stock_config(config, "text_encoder_stock"))):
        os.makedirs(os.path.join(repo, name, "1"))
        shutil.copy(os.path.join(source, "text_encoder", "1", "model.onnx"), os.path.join(repo, name, "1"))
        with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
            f.write(text)
    return repo


class BadRequestInABatch(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        env = os.environ
        repo = batching_repository(env["TRITON_TEST_WORK"], env["MODEL_REPOSITORY"])
        cls.server = local_server.TritonServer(
            env["TRITON_SERVER_BIN"], repo, env["TRITON_BACKENDS"],
            args=["--log-verbose=1"], log_path=os.path.join(env["TRITON_TEST_WORK"], "batching.log"))
        cls.server.start(timeout=180)
        testdata = os.path.join(env["TESTDATA"], "text_encoder")
        with open(os.path.join(testdata, "request_b1.json")) as f:
            cls.good = json.load(f)
        cls.expected, cls.rtol, cls.atol = helpers.load_expected(os.path.join(testdata, "expected_b1.json"))
        cls.bad = {"inputs": [{"name": "input_ids", "datatype": "INT64", "shape": [1, 128],
                               "data": [5000] * 128}]}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def send_together(self, model):
        """The good and the bad request at once, so that the 500 ms window batches them."""
        answers = {}

        def send(tag, body):
            answers[tag] = helpers.raw_infer(self.server.http_url, model, body)

        threads = [threading.Thread(target=send, args=(tag, body))
                   for tag, body in (("good", self.good), ("bad", self.bad))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return answers

    def test_ours_answers_the_good_request_of_a_batch_with_a_bad_one(self):
        answers = self.send_together("text_encoder")
        self.assertIn("'text_encoder': ONNX Runtime refused a batch of 2 requests", self.server.log(),
                      "the two requests did not meet in one batch")
        status, body = answers["good"]
        self.assertEqual(200, status, body)
        got = {o["name"]: np.array(o["data"], dtype=np.float32) for o in body["outputs"]}
        for want in self.expected:
            np.testing.assert_allclose(got[want.name], want.array.reshape(-1), rtol=self.rtol,
                                       atol=self.atol, err_msg=want.name)
        status, body = answers["bad"]
        self.assertGreaterEqual(status, 400, body)
        self.assertIn("idx=5000", body.get("error", ""), body)

    def test_stock_fails_both_differs_on_purpose(self):
        answers = self.send_together("text_encoder_stock")
        self.assertGreaterEqual(answers["bad"][0], 400)
        # Triton's stock backend runs the batch once: its good request fails with the bad one.
        self.assertGreaterEqual(answers["good"][0], 400, answers["good"][1])


if __name__ == "__main__":
    unittest.main()
