"""Integration tests against a running Triton server with the java_onnxruntime backend.

Run by run_local.py (``make test-triton``, part of ``make test``) against the real tritonserver
2.70 (CPU build, HTTP only) of ../shared, and by run.sh (``make integration``) against the image.
Needs tritonclient.http and numpy; tritonclient.grpc is optional. Settings (environment):

  TRITON_HTTP_URL       host:port of HTTP/REST   (default localhost:8000)
  TRITON_GRPC_URL       host:port of gRPC; unset (or tritonclient.grpc missing): gRPC tests skip
  TRITON_METRICS_URL    host:port of metrics     (default localhost:8002)
  TESTDATA              reference data of make_models.py (default <repo>/build/testdata)
  EXPECT_KIND           gpu or cpu: the instance kind of the served repository (default gpu)
  TRITON_MODEL_CONTROL  "explicit" when the server runs --model-control-mode=explicit: the
                        load/unload/reload tests run (they skip otherwise)
  TRITON_CLIENT_SHM     1 when the server shares this host's /dev/shm and allows client shared
                        memory (--allow-client-shm=true): the system shared memory tests run

    python3 -m unittest -v test_server
"""

import json
import os
import sys
import threading
import time
import unittest
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

try:
    import tritonclient.grpc as grpcclient
except ImportError:  # the real server of ../shared has no gRPC endpoint, its tritonclient no grpc
    grpcclient = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

HTTP_URL = os.environ.get("TRITON_HTTP_URL", "localhost:8000")
GRPC_URL = os.environ.get("TRITON_GRPC_URL")
METRICS_URL = os.environ.get("TRITON_METRICS_URL", "localhost:8002")
TESTDATA = os.environ.get(
    "TESTDATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "testdata"))
EXPECT_KIND = os.environ.get("EXPECT_KIND", "gpu")
MODELS = ["conv_net", "text_encoder", "vit_patch", "two_input", "dtypes", "fails_at_runtime",
          "chain_encoder", "chain_head"]
CACHE_METRICS = [
    "java_onnxruntime_input_cache_hits_total",
    "java_onnxruntime_input_cache_misses_total",
    "java_onnxruntime_input_cache_bytes_saved_total",
    "java_onnxruntime_input_cache_hash_duration_us_total",
    "java_onnxruntime_input_cache_evictions_total",
    "java_onnxruntime_input_cache_resident_bytes",
    "java_onnxruntime_input_cache_entries",
]
PROTOCOLS = {"http": (httpclient, HTTP_URL)}
if grpcclient is not None and GRPC_URL:
    PROTOCOLS["grpc"] = (grpcclient, GRPC_URL)
# Sent binary even in the JSON tests: Triton's JSON front end refuses FP16 and BF16, and parses
# FP64 numbers up to 1 ulp off (its rapidjson parse is not full precision; the client sends them
# exactly). JsonFp64 pins the latter down.
JSON_BINARY = ("FP16", "BF16", "FP64")
NO_GRPC = "no gRPC here (tritonclient.grpc missing or TRITON_GRPC_URL unset)"


def setUpModule():
    helpers.wait_ready(HTTP_URL, MODELS, timeout_s=int(os.environ.get("READY_TIMEOUT_S", "300")))


def client(protocol):
    if protocol not in PROTOCOLS:
        raise unittest.SkipTest(NO_GRPC)
    module, url = PROTOCOLS[protocol]
    return module.InferenceServerClient(url=url)


def infer(protocol, model, tensors, parameters=None, c=None, binary=True, outputs=None):
    """Sends the tensors (helpers.Tensor) as one request; returns {output name: numpy array}.
    binary=False sends JSON tensors over HTTP (FP16/BF16 stay binary: Triton's JSON refuses them);
    outputs, a list of names, asks for those only."""
    if protocol not in PROTOCOLS:
        raise unittest.SkipTest(NO_GRPC)
    module, _ = PROTOCOLS[protocol]
    inputs = []
    for t in tensors:
        i = module.InferInput(t.name, t.shape, t.datatype)
        if protocol == "http":
            i.set_data_from_numpy(np.ascontiguousarray(t.array),
                                  binary_data=binary or t.datatype in JSON_BINARY)
        else:
            i.set_data_from_numpy(np.ascontiguousarray(t.array))
        inputs.append(i)
    requested = None
    if outputs is not None:
        requested = [module.InferRequestedOutput(n) for n in outputs]
    result = (c or client(protocol)).infer(model, inputs, parameters=parameters, outputs=requested)
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

    def check(self, protocol, binary=True):
        cases = helpers.reference_cases(TESTDATA)
        self.assertGreater(len(cases), 10, "no reference data in %s" % TESTDATA)
        c = client(protocol)
        for model, request, expected in cases:
            with self.subTest(protocol=protocol, binary=binary, model=model, request=os.path.basename(request)):
                tensors = helpers.load_request(request)
                if expected is None:
                    # request_bad of fails_at_runtime: ONNX Runtime fails in Run; only it fails.
                    with self.assertRaises(InferenceServerException):
                        infer(protocol, model, tensors, c=c, binary=binary)
                else:
                    assert_outputs(self, expected, infer(protocol, model, tensors, c=c, binary=binary))

    def test_http(self):
        self.check("http")

    def test_http_json_tensors(self):
        self.check("http", binary=False)

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

    def test_longest_key_beside_a_long_parameter_of_another(self):
        # The key's text crosses from C in a copy of its first 256 bytes (request_read.h): the
        # longest key, in multi-byte UTF-8, stored and then found, and another parameter's 5000-byte
        # string, not ours, ignored.
        tensors, bias_only, expected = two_input_b1()
        key = ("%s-" % uuid.uuid4().hex + "\u00fc" * 128).encode("utf-8")[:256].decode("utf-8", "ignore")
        key += "k" * (256 - len(key.encode("utf-8")))
        self.assertEqual(256, len(key.encode("utf-8")))
        param = {"input_cache_key.image": key, "note": "x" * 5000}
        assert_outputs(self, expected, infer("http", "two_input", tensors, parameters=param))
        assert_outputs(self, expected, infer("http", "two_input", bias_only, parameters=param))

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
        assert_outputs(self, expected_two, infer("http", "two_input", tensors,
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
            protocol = sorted(PROTOCOLS)[i % len(PROTOCOLS)]
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


def get_json(path):
    with urllib.request.urlopen("http://%s/%s" % (HTTP_URL, path), timeout=30) as r:
        return json.load(r)


def explicit():
    if os.environ.get("TRITON_MODEL_CONTROL") != "explicit":
        raise unittest.SkipTest("the server is not in --model-control-mode=explicit (TRITON_MODEL_CONTROL unset)")


def expected_path(model, case="b1"):
    return os.path.join(TESTDATA, model, "expected_%s.json" % case)


def request(model, case="b1"):
    return helpers.load_request(os.path.join(TESTDATA, model, "request_%s.json" % case))


class Metadata(unittest.TestCase):
    """Server and model metadata, and each model's configuration as the server holds it."""

    def test_server(self):
        c = client("http")
        self.assertTrue(c.is_server_live())
        self.assertTrue(c.is_server_ready())
        meta = c.get_server_metadata()
        self.assertEqual("triton", meta["name"])
        for ext in ("binary_tensor_data", "parameters", "statistics", "model_configuration"):
            self.assertIn(ext, meta["extensions"])

    def test_models_match_their_config(self):
        c = client("http")
        for model in MODELS:
            with self.subTest(model=model):
                self.assertTrue(c.is_model_ready(model))
                meta = c.get_model_metadata(model)
                config = c.get_model_config(model)
                self.assertEqual("java_onnxruntime", config["backend"])
                self.assertEqual(["1"], meta["versions"])
                batch = [-1] if config["max_batch_size"] > 0 else []
                for kind, tensors in (("inputs", config["input"]), ("outputs", config["output"])):
                    want = [(t["name"], t["data_type"].replace("TYPE_", ""), batch + [int(d) for d in t["dims"]])
                            for t in tensors]
                    got = [(t["name"], t["datatype"], t["shape"]) for t in meta[kind]]
                    self.assertEqual(sorted(want), sorted(got), kind)
                want_kind = "KIND_GPU" if EXPECT_KIND == "gpu" else "KIND_CPU"
                self.assertEqual({want_kind}, {g["kind"] for g in config["instance_group"]})

    def test_auto_complete(self):
        # run_local.py serves conv_net's ONNX file as autocomplete_conv_net with a config naming
        # only the backend and the instance group; the image has no such model.
        c = client("http")
        if not any(m["name"] == "autocomplete_conv_net" for m in c.get_model_repository_index()):
            self.skipTest("no model autocomplete_conv_net in this server's repositories")
        config = c.get_model_config("autocomplete_conv_net")
        self.assertEqual([("input", "TYPE_FP32", ["3", "224", "224"])],
                         [(t["name"], t["data_type"], [str(d) for d in t["dims"]]) for t in config["input"]])
        self.assertEqual([("logits", "TYPE_FP32", ["10"])],
                         [(t["name"], t["data_type"], [str(d) for d in t["dims"]]) for t in config["output"]])
        self.assertGreater(config["max_batch_size"], 0)
        assert_outputs(self, expected_path("conv_net"), infer("http", "autocomplete_conv_net", request("conv_net")))


class JsonFp64(unittest.TestCase):
    """FP64 sent as JSON numbers comes back within 1 ulp (Triton's JSON parsing; binary is exact)."""

    def test_fp64_json_within_one_ulp(self):
        tensors = helpers.load_request(os.path.join(TESTDATA, "dtypes", "request_b1.json"))
        c = client("http")
        inputs = []
        for t in tensors:
            i = httpclient.InferInput(t.name, t.shape, t.datatype)
            i.set_data_from_numpy(np.ascontiguousarray(t.array), binary_data=t.datatype != "FP64")
            inputs.append(i)
        got = c.infer("dtypes", inputs).as_numpy("out_fp64")
        want = next(t.array for t in tensors if t.name == "in_fp64")
        ulps = np.abs(got.view(np.int64) - want.view(np.int64))
        self.assertLessEqual(int(ulps.max()), 1)


class Chain(unittest.TestCase):
    """chain_encoder keeps its features under a key (output_cache_key) and returns only score;
    chain_head reads them by key (input_cache_key), with no input data in the request."""

    def test_kept_output_feeds_the_next_model(self):
        c = client("http")
        image = request("chain_encoder")
        full = infer("http", "chain_encoder", image, c=c)
        self.assertEqual({"features", "score"}, set(full))
        direct = infer("http", "chain_head", [helpers.Tensor("features", "FP32", full["features"].shape,
                                                             full["features"])], c=c)
        key = "it-chain-%s" % uuid.uuid4().hex
        kept = infer("http", "chain_encoder", image, parameters={"output_cache_key.features": key},
                     outputs=["score"], c=c)
        self.assertEqual(["score"], list(kept), "features was not asked for and must not be sent back")
        self.assertEqual(full["score"].tobytes(), kept["score"].tobytes())
        head = infer("http", "chain_head", [], parameters={"input_cache_key.features": key}, c=c)
        self.assertEqual(direct["logits"].tobytes(), head["logits"].tobytes())
        assert_outputs(self, expected_path("chain_encoder"), full)

    def test_unknown_kept_key(self):
        key = "never-kept-%s" % uuid.uuid4().hex
        with self.assertRaises(InferenceServerException) as cm:
            infer("http", "chain_head", [], parameters={"input_cache_key.features": key})
        self.assertEqual("404", str(cm.exception.status()))
        self.assertIn(key, str(cm.exception))


class Statistics(unittest.TestCase):
    """Triton's statistics count what our backend reports: successes, failures, executions."""

    @staticmethod
    def stats(model):
        (s,) = client("http").get_inference_statistics(model)["model_stats"]
        return s

    def test_counts(self):
        before, before_bad = self.stats("conv_net"), self.stats("fails_at_runtime")
        c = client("http")
        tensors = request("conv_net", "b2")
        for _ in range(3):
            infer("http", "conv_net", tensors, c=c)
        with self.assertRaises(InferenceServerException):
            infer("http", "fails_at_runtime", helpers.load_request(
                os.path.join(TESTDATA, "fails_at_runtime", "request_bad.json")), c=c)
        after, after_bad = self.stats("conv_net"), self.stats("fails_at_runtime")
        ok = lambda s: s["inference_stats"]["success"]["count"]  # noqa: E731
        failed = lambda s: s["inference_stats"]["fail"]["count"]  # noqa: E731
        self.assertEqual(3, ok(after) - ok(before))
        self.assertEqual(3 * tensors[0].shape[0], after["inference_count"] - before["inference_count"])
        self.assertGreaterEqual(after["execution_count"] - before["execution_count"], 1)
        self.assertGreater(after["inference_stats"]["compute_infer"]["ns"],
                           before["inference_stats"]["compute_infer"]["ns"])
        self.assertEqual(1, failed(after_bad) - failed(before_bad))

    def test_metrics_count_requests(self):
        name = "nv_inference_request_success"
        before = helpers.metric_sum(helpers.fetch_metrics(METRICS_URL), name, model="vit_patch")
        infer("http", "vit_patch", request("vit_patch"))
        # The request's statistics reach Triton just after its response (the backend reports
        # them when it releases the request, as the stock backend does): the client may read the
        # counter first, so it is read until it moves (bounded), then once more.
        deadline = time.monotonic() + 5
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.05)
            after = helpers.metric_sum(helpers.fetch_metrics(METRICS_URL), name, model="vit_patch")
        time.sleep(0.2)
        after = helpers.metric_sum(helpers.fetch_metrics(METRICS_URL), name, model="vit_patch")
        self.assertEqual(1, after - before)


class SharedMemory(unittest.TestCase):
    """Inputs (and an output) in system shared memory registered by the client."""

    def setUp(self):
        if os.environ.get("TRITON_CLIENT_SHM") != "1":
            self.skipTest("TRITON_CLIENT_SHM unset: the server may not share /dev/shm or allow client shm")
        self.c = client("http")
        regions = helpers.SharedMemoryRegions(self.c)
        self.shm = regions.shm
        self.region = regions.region
        self.addCleanup(regions.close)

    def test_inputs_and_output_in_shared_memory(self):
        tensors = request("conv_net", "b3")
        (t,) = tensors
        data = np.ascontiguousarray(t.array, dtype=np.float32)
        in_name, in_handle = self.region(data.nbytes)
        self.shm.set_shared_memory_region(in_handle, [data])
        out_bytes = t.shape[0] * 10 * 4
        out_name, out_handle = self.region(out_bytes)
        i = httpclient.InferInput("input", t.shape, "FP32")
        i.set_shared_memory(in_name, data.nbytes)
        o = httpclient.InferRequestedOutput("logits")
        o.set_shared_memory(out_name, out_bytes)
        result = self.c.infer("conv_net", [i], outputs=[o])
        (out,) = result.get_response()["outputs"]
        logits = self.shm.get_contents_as_numpy(out_handle, np.float32, out["shape"])
        assert_outputs(self, expected_path("conv_net", "b3"), {"logits": logits})
        self.assertIn(in_name, {r["name"] for r in self.c.get_system_shared_memory_status()})

    def test_one_input_in_shared_memory_beside_one_sent(self):
        tensors, _, expected = two_input_b1()
        image = next(t for t in tensors if t.name == "image")
        bias = next(t for t in tensors if t.name == "bias")
        data = np.ascontiguousarray(image.array, dtype=np.float32)
        name, handle = self.region(data.nbytes)
        self.shm.set_shared_memory_region(handle, [data])
        i = httpclient.InferInput("image", image.shape, "FP32")
        i.set_shared_memory(name, data.nbytes)
        b = httpclient.InferInput("bias", bias.shape, "FP32")
        b.set_data_from_numpy(np.ascontiguousarray(bias.array))
        result = self.c.infer("two_input", [i, b])
        assert_outputs(self, expected, {"out": result.as_numpy("out")})

    def test_region_too_small_is_a_clear_error(self):
        (t,) = request("conv_net")
        name, _ = self.region(1024)
        i = httpclient.InferInput("input", t.shape, "FP32")
        i.set_shared_memory(name, t.array.nbytes)
        with self.assertRaises(InferenceServerException) as cm:
            self.c.infer("conv_net", [i])
        self.assertEqual("400", str(cm.exception.status()))
        self.assertTrue(str(cm.exception))


class BadRequests(unittest.TestCase):
    """Each bad request fails alone with a message (4xx where our backend decides: a missing
    input, a bad key parameter, an unknown key); the server keeps serving."""

    def expect(self, status, model, tensors, parameters=None, contains=()):
        with self.assertRaises(InferenceServerException) as cm:
            infer("http", model, tensors, parameters=parameters)
        self.assertEqual(status, str(cm.exception.status()), str(cm.exception))
        for text in contains:
            self.assertIn(text, str(cm.exception))
        self.assertGreater(len(cm.exception.message() or ""), 10)

    def test_each_fails_with_a_message(self):
        (conv,) = request("conv_net")
        tensors, bias_only, _ = two_input_b1()
        x = helpers.Tensor("x", "FP32", [4], np.arange(4, dtype=np.float32))
        shape = helpers.Tensor("shape", "INT64", [2], np.array([2, 2], dtype=np.int64))
        cases = [
            ("400", "conv_net", [helpers.Tensor("input", "FP64", conv.shape, conv.array.astype(np.float64))],
             None, ["FP64"]),
            ("400", "conv_net", [helpers.Tensor("input", "FP32", [1, 3, 224, 112], conv.array[..., :112])],
             None, ["shape"]),
            ("400", "conv_net", [helpers.Tensor("input", "FP32", [9, 3, 224, 224],
                                                np.repeat(conv.array, 9, axis=0))], None, ["batch"]),
            ("400", "two_input", bias_only, None, ["image", "input_cache_key.image"]),
            ("400", "two_input", [t for t in tensors if t.name != "bias"], None, ["bias"]),
            ("400", "fails_at_runtime", [x, shape], {"input_cache_key.x": 7}, ["input_cache_key.x"]),
            ("404", "two_input", bias_only, {"input_cache_key.image": "never-%s" % uuid.uuid4().hex}, ["resend"]),
            ("400", "two_input", tensors, {"input_cache_key.image": "k" * 257}, ["256", "got 257"]),
            ("400", "two_input", tensors, {"input_cache_key.image": ""}, ["got 0"]),
            ("400", "conv_net", [conv, helpers.Tensor("extra", "FP32", [1, 1], np.ones((1, 1), np.float32))],
             None, ["extra"]),
            ("500", "fails_at_runtime", [x, helpers.Tensor("shape", "INT64", [2], np.array([3, 3], np.int64))],
             None, ["ONNX Runtime", "Reshape"]),
        ]
        for status, model, ts, params, contains in cases:
            with self.subTest(model=model, status=status, contains=contains):
                self.expect(status, model, ts, params, contains)
        with self.assertRaises(InferenceServerException) as cm:
            infer("http", "no_such_model", [conv])
        self.assertEqual("404", str(cm.exception.status()))
        assert_outputs(self, expected_path("conv_net"), infer("http", "conv_net", [conv]))


class ModelControl(unittest.TestCase):
    """--model-control-mode=explicit: unload, load, reload, and an unload while 4 clients send."""

    MODEL = "vit_patch"

    def setUp(self):
        explicit()
        self.c = client("http")

    def tearDown(self):
        if not self.c.is_model_ready(self.MODEL):
            self.c.load_model(self.MODEL)
        self.assertTrue(self.c.is_model_ready(self.MODEL))

    def state(self):
        return {m["name"]: m.get("state") for m in self.c.get_model_repository_index()}.get(self.MODEL)

    def test_unload_load_reload(self):
        tensors = request(self.MODEL)
        self.c.unload_model(self.MODEL)
        self.assertFalse(self.c.is_model_ready(self.MODEL))
        self.wait_for(lambda: self.state() == "UNAVAILABLE", "state UNAVAILABLE after the unload")
        with self.assertRaises(InferenceServerException) as cm:
            infer("http", self.MODEL, tensors, c=self.c)
        self.assertIn(self.MODEL, str(cm.exception))
        self.c.load_model(self.MODEL)
        self.assertTrue(self.c.is_model_ready(self.MODEL))
        self.assertEqual("READY", self.state())
        assert_outputs(self, expected_path(self.MODEL), infer("http", self.MODEL, tensors, c=self.c))
        self.c.load_model(self.MODEL)  # a load of a loaded model reloads it
        self.assertTrue(self.c.is_model_ready(self.MODEL))
        assert_outputs(self, expected_path(self.MODEL), infer("http", self.MODEL, tensors, c=self.c))

    def test_unload_while_four_clients_send(self):
        tensors = request(self.MODEL)
        expected, rtol, atol = helpers.load_expected(expected_path(self.MODEL))
        stop = threading.Event()
        outcomes = [[] for _ in range(4)]  # per client: "ok", "error: <message>" or a problem

        def send(i):
            c = httpclient.InferenceServerClient(HTTP_URL, network_timeout=120)
            deadline = time.monotonic() + 400  # a bound only: stop ends it first
            try:
                for _ in range(200000):
                    if stop.is_set() or time.monotonic() > deadline:
                        return
                    try:
                        got = infer("http", self.MODEL, tensors, c=c)
                        problem = helpers.mismatch(expected[0], got.get("tokens"), rtol, atol)
                        outcomes[i].append("wrong output: %s" % problem if problem else "ok")
                    except InferenceServerException as e:
                        outcomes[i].append("error: %s" % e.message() if e.message() else "error without a message")
                        time.sleep(0.02)
            finally:
                c.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            self.wait_for(lambda: all("ok" in o for o in outcomes), "every client got an answer")
            self.c.unload_model(self.MODEL)
            self.wait_for(lambda: self.state() == "UNAVAILABLE", "state UNAVAILABLE after the unload")
            self.wait_for(lambda: all(any(x.startswith("error") for x in o) for o in outcomes),
                          "every client saw the model gone")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=180)
        self.assertFalse(any(t.is_alive() for t in threads), "a client is still waiting for an answer")
        answered = [x for o in outcomes for x in o]
        self.assertEqual([], [x for x in answered if x != "ok" and not x.startswith("error: ")])
        errors = {x for x in answered if x.startswith("error: ")}
        self.assertTrue(all(self.MODEL in e for e in errors), errors)
        self.c.load_model(self.MODEL)
        assert_outputs(self, expected_path(self.MODEL), infer("http", self.MODEL, tensors, c=self.c))

    @staticmethod
    def wait_for(predicate, what, timeout=120):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("not within %ds: %s" % (timeout, what))
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main(verbosity=2)
