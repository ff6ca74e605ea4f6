"""Integration tests against a running Triton server with the java_onnxruntime backend.

Run by tests/integration/run.sh (``make integration``) against the image, with the example model
repository loaded; needs tritonclient[http,grpc] and numpy. Settings (environment):

  TRITON_HTTP_URL     host:port of HTTP/REST   (default localhost:8000)
  TRITON_GRPC_URL     host:port of gRPC        (default localhost:8001)
  TRITON_METRICS_URL  host:port of metrics     (default localhost:8002)
  TESTDATA            reference data of make_models.py (default <repo>/build/testdata)
  EXPECT_KIND         gpu or cpu: the instance kind of the served repository (default gpu)

    python3 -m unittest -v test_server
"""

import os
import sys
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

HTTP_URL = os.environ.get("TRITON_HTTP_URL", "localhost:8000")
GRPC_URL = os.environ.get("TRITON_GRPC_URL", "localhost:8001")
METRICS_URL = os.environ.get("TRITON_METRICS_URL", "localhost:8002")
TESTDATA = os.environ.get(
    "TESTDATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "testdata"))
EXPECT_KIND = os.environ.get("EXPECT_KIND", "gpu")
MODELS = ["conv_net", "text_encoder", "vit_patch", "two_input", "dtypes", "fails_at_runtime"]
CACHE_METRICS = [
    "java_onnxruntime_input_cache_hits_total",
    "java_onnxruntime_input_cache_misses_total",
    "java_onnxruntime_input_cache_bytes_saved_total",
    "java_onnxruntime_input_cache_hash_duration_us_total",
    "java_onnxruntime_input_cache_evictions_total",
    "java_onnxruntime_input_cache_resident_bytes",
    "java_onnxruntime_input_cache_entries",
]
PROTOCOLS = {"http": (httpclient, HTTP_URL), "grpc": (grpcclient, GRPC_URL)}


def setUpModule():
    helpers.wait_ready(HTTP_URL, MODELS, timeout_s=int(os.environ.get("READY_TIMEOUT_S", "300")))


def client(protocol):
    module, url = PROTOCOLS[protocol]
    return module.InferenceServerClient(url=url)


def infer(protocol, model, tensors, parameters=None, c=None):
    """Sends the tensors (helpers.Tensor) as one request; returns {output name: numpy array}."""
    module, _ = PROTOCOLS[protocol]
    inputs = []
    for t in tensors:
        i = module.InferInput(t.name, t.shape, t.datatype)
        i.set_data_from_numpy(np.ascontiguousarray(t.array))
        inputs.append(i)
    result = (c or client(protocol)).infer(model, inputs, parameters=parameters)
    response = result.get_response()
    outputs = response["outputs"] if protocol == "http" else [{"name": o.name} for o in response.outputs]
    return {o["name"]: result.as_numpy(o["name"]) for o in outputs}


def assert_outputs(test, expected_path, got):
    expected, rtol, atol = helpers.load_expected(expected_path)
    for e in expected:
        test.assertIn(e.name, got, "output %s missing from the response" % e.name)
        problem = helpers.mismatch(e, got[e.name], rtol, atol)
        test.assertIsNone(problem, "%s: %s" % (expected_path, problem))


def two_input_b1():
    tensors = helpers.load_request(os.path.join(TESTDATA, "two_input", "request_b1.json"))
    bias_only = [t for t in tensors if t.name != "image"]
    return tensors, bias_only, os.path.join(TESTDATA, "two_input", "expected_b1.json")


class ReferenceOutputs(unittest.TestCase):
    """Every example model gives the reference outputs over HTTP and gRPC."""

    def check(self, protocol):
        cases = helpers.reference_cases(TESTDATA)
        self.assertGreater(len(cases), 10, "no reference data in %s" % TESTDATA)
        c = client(protocol)
        for model, request, expected in cases:
            with self.subTest(protocol=protocol, model=model, request=os.path.basename(request)):
                tensors = helpers.load_request(request)
                if expected is None:
                    # request_bad of fails_at_runtime: ONNX Runtime fails in Run; only it fails.
                    with self.assertRaises(InferenceServerException):
                        infer(protocol, model, tensors, c=c)
                else:
                    assert_outputs(self, expected, infer(protocol, model, tensors, c=c))

    def test_http(self):
        self.check("http")

    def test_grpc(self):
        self.check("grpc")


class NamedKeys(unittest.TestCase):
    """A client names a key once with the data, then references it with the input left out."""

    def flow(self, protocol):
        tensors, bias_only, expected = two_input_b1()
        key = "it-%s-%s" % (protocol, uuid.uuid4().hex)
        param = {"input_cache_key.image": key}
        assert_outputs(self, expected, infer(protocol, "two_input", tensors, parameters=param))
        before = helpers.fetch_metrics(METRICS_URL)
        assert_outputs(self, expected, infer(protocol, "two_input", bias_only, parameters=param))
        after = helpers.fetch_metrics(METRICS_URL)
        hits = "java_onnxruntime_input_cache_hits_total"
        self.assertGreaterEqual(
            helpers.metric_sum(after, hits, model="two_input") - helpers.metric_sum(before, hits, model="two_input"),
            1, "a request that referenced a stored key did not count a hit")
        if EXPECT_KIND == "gpu":
            on_gpu = sum(v for (n, ls), v in after.items()
                         if n == hits and ("model", "two_input") in ls and ("device", "-1") not in ls)
            self.assertGreaterEqual(on_gpu, 1, "no cache hit on a GPU device (KIND_GPU repository expected)")

    def unknown(self, protocol):
        _, bias_only, _ = two_input_b1()
        key = "never-stored-%s" % uuid.uuid4().hex
        with self.assertRaises(InferenceServerException) as cm:
            infer(protocol, "two_input", bias_only, parameters={"input_cache_key.image": key})
        message = str(cm.exception)
        self.assertIn(key, message)
        self.assertIn("resend", message)
        if protocol == "grpc":
            self.assertIn("NOT_FOUND", str(cm.exception.status()))

    def test_flow_http(self):
        self.flow("http")

    def test_flow_grpc(self):
        self.flow("grpc")

    def test_unknown_key_http(self):
        self.unknown("http")

    def test_unknown_key_grpc(self):
        self.unknown("grpc")


class Metrics(unittest.TestCase):
    """The backend's cache figures are on Triton's Prometheus endpoint."""

    def test_cache_families_present(self):
        # Make sure some cached traffic happened first, whatever the test order.
        tensors, _, expected = two_input_b1()
        assert_outputs(self, expected, infer("http", "two_input", tensors,
                                             parameters={"input_cache_key.image": "it-metrics"}))
        samples = helpers.fetch_metrics(METRICS_URL)
        names = {n for n, _ in samples}
        for name in CACHE_METRICS:
            self.assertIn(name, names)
        for name in CACHE_METRICS[:4]:
            models = {dict(ls).get("model") for n, ls in samples if n == name}
            self.assertIn("two_input", models, "%s has no sample for model two_input" % name)
        self.assertGreater(helpers.metric_sum(samples, "java_onnxruntime_input_cache_entries"), 0)


class Isolation(unittest.TestCase):
    """Bad requests fail alone: concurrent good requests, batched with them or not, still succeed."""

    def test_bad_requests_do_not_disturb_good_ones(self):
        tensors, bias_only, expected_two = two_input_b1()
        key = "it-iso-%s" % uuid.uuid4().hex
        assert_outputs(self, expected_two, infer("grpc", "two_input", tensors,
                                                 parameters={"input_cache_key.image": key}))
        conv = helpers.load_request(os.path.join(TESTDATA, "conv_net", "request_b1.json"))
        expected_conv = os.path.join(TESTDATA, "conv_net", "expected_b1.json")
        bad_runtime = helpers.load_request(os.path.join(TESTDATA, "fails_at_runtime", "request_bad.json"))
        good = [
            # Same input set as the bad key requests: the dynamic batcher may put them in one batch.
            ("two_input", bias_only, {"input_cache_key.image": key}, expected_two),
            ("conv_net", conv, None, expected_conv),
        ]
        bad = [
            ("two_input", bias_only, {"input_cache_key.image": "never-" + key}),
            ("fails_at_runtime", bad_runtime, None),
        ]

        def worker(i):
            protocol = "grpc" if i % 2 else "http"
            c = client(protocol)
            failures = []
            for round_ in range(6):
                model, ts, params, expected = good[(i + round_) % len(good)]
                try:
                    got = infer(protocol, model, ts, parameters=params, c=c)
                    exp, rtol, atol = helpers.load_expected(expected)
                    for e in exp:
                        problem = helpers.mismatch(e, got.get(e.name), rtol, atol) if e.name in got else "missing " + e.name
                        if problem:
                            failures.append("good %s over %s: %s" % (model, protocol, problem))
                except InferenceServerException as e:
                    failures.append("good %s over %s failed: %s" % (model, protocol, e))
                model, ts, params = bad[(i + round_) % len(bad)]
                try:
                    infer(protocol, model, ts, parameters=params, c=c)
                    failures.append("bad %s over %s succeeded" % (model, protocol))
                except InferenceServerException:
                    pass
            return failures

        with ThreadPoolExecutor(max_workers=8) as pool:
            failures = [f for fs in pool.map(worker, range(8)) for f in fs]
        self.assertEqual([], failures)
        # The server still serves normally afterwards.
        assert_outputs(self, expected_conv, infer("http", "conv_net", conv))


if __name__ == "__main__":
    unittest.main(verbosity=2)
