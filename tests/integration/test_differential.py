"""Our backend against Triton's stock ONNX Runtime backend, in the same server.

The server serves every example model twice: as itself (backend java_onnxruntime) and as
<model><STOCK_SUFFIX> (backend "onnxruntime": the same ONNX file and config, our backend's
parameters removed, `optional: true` removed because the stock backend refuses it), as
run_local.py prepares them. The same requests go to both:
- outputs are equal bit for bit (no tolerance: both run the same ONNX Runtime 1.24.1 CPU build
  on the same ONNX file, one request at a time so that each run sees the request's own batch);
- bad requests get the same HTTP status from both, with an error message;
- where our backend differs on purpose (named keys, optional inputs), the test says so.

Settings (environment): TRITON_HTTP_URL, TESTDATA, STOCK_SUFFIX (unset: every test skips).
"""

import os
import sys
import unittest
import uuid

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

HTTP_URL = os.environ.get("TRITON_HTTP_URL", "localhost:8000")
TESTDATA = os.environ.get(
    "TESTDATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "testdata"))
SUFFIX = os.environ.get("STOCK_SUFFIX")
BINARY_ONLY = ("FP16", "BF16")  # Triton's JSON front end refuses these in both directions


def setUpModule():
    if not SUFFIX:
        raise unittest.SkipTest("no stock models in this server (STOCK_SUFFIX unset; run_local.py sets it)")
    helpers.wait_ready(HTTP_URL, [], timeout_s=60)


def infer(c, model, tensors, binary=True, parameters=None, outputs=None):
    """{output name: (datatype, shape, bytes)} of one request; binary or JSON tensors (FP16 and
    BF16 always binary)."""
    inputs = []
    for t in tensors:
        i = httpclient.InferInput(t.name, t.shape, t.datatype)
        i.set_data_from_numpy(np.ascontiguousarray(t.array), binary_data=binary or t.datatype in BINARY_ONLY)
        inputs.append(i)
    requested = None
    if outputs:
        requested = [httpclient.InferRequestedOutput(name, binary_data=binary or dt in BINARY_ONLY)
                     for name, dt in outputs]
    result = c.infer(model, inputs, outputs=requested, parameters=parameters)
    got = {}
    for o in result.get_response()["outputs"]:
        array = result.as_numpy(o["name"])
        got[o["name"]] = (o["datatype"], list(o["shape"]), np.ascontiguousarray(array).tobytes())
    return got


def first_difference(stock, ours):
    """Where two outputs' bytes differ, as values (the bits compared element by element)."""
    count = max(1, int(np.prod(stock[1])))
    bits = "u%d" % (len(stock[2]) // count)
    a, b = np.frombuffer(ours[2], dtype=bits), np.frombuffer(stock[2], dtype=bits)
    if a.size != b.size:
        return "%d bytes, stock %d" % (len(ours[2]), len(stock[2]))
    bad = np.flatnonzero(a != b)
    values = helpers.NUMPY_DTYPES[stock[0]]
    return "%d of %d values differ from stock's; first at flat index %d: %r, stock %r" % (
        bad.size, a.size, bad[0], a[bad[0]:bad[0] + 1].view(values)[0], b[bad[0]:bad[0] + 1].view(values)[0])


def model_outputs(c, model):
    """[(name, datatype)] of a model's outputs, from its metadata."""
    return [(o["name"], o["datatype"]) for o in c.get_model_metadata(model)["outputs"]]


class SameOutputs(unittest.TestCase):
    """Every reference request of every example model: our outputs equal stock's bit for bit."""

    def check(self, binary):
        c = httpclient.InferenceServerClient(HTTP_URL)
        cases = helpers.reference_cases(TESTDATA)
        self.assertGreater(len(cases), 10, "no reference data in %s" % TESTDATA)
        compared = 0
        for model, request, expected in cases:
            if expected is None:
                continue  # request_bad of fails_at_runtime: a failure, compared in SameStatus
            with self.subTest(model=model, request=os.path.basename(request), binary=binary):
                tensors = helpers.load_request(request)
                outputs = model_outputs(c, model)
                ours = infer(c, model, tensors, binary, outputs=outputs)
                stock = infer(c, model + SUFFIX, tensors, binary, outputs=outputs)
                self.assertEqual(sorted(ours), sorted(stock))
                for name in stock:
                    self.assertEqual(ours[name][:2], stock[name][:2], "%s: datatype/shape" % name)
                    if ours[name][2] != stock[name][2]:
                        self.fail("%s %s output %s: %s" % (model, os.path.basename(request), name,
                                                           first_difference(stock[name], ours[name])))
                compared += 1
        self.assertGreater(compared, 10)

    def test_binary_tensors(self):
        self.check(binary=True)

    def test_json_tensors(self):
        self.check(binary=False)


class SameConfig(unittest.TestCase):
    """Metadata and the auto-completed configuration agree with the stock backend's."""

    def test_metadata(self):
        c = httpclient.InferenceServerClient(HTTP_URL)
        models = os.environ.get("EXAMPLE_MODELS", "conv_net,dtypes,two_input").split(",")
        for model in models:
            with self.subTest(model=model):
                ours = c.get_model_metadata(model)
                stock = c.get_model_metadata(model + SUFFIX)
                self.assertEqual(ours["inputs"], stock["inputs"])
                self.assertEqual(ours["outputs"], stock["outputs"])
                self.assertEqual(ours["versions"], stock["versions"])

    def test_auto_complete(self):
        c = httpclient.InferenceServerClient(HTTP_URL)
        ours = c.get_model_config("autocomplete_conv_net")
        stock = c.get_model_config("autocomplete_conv_net_stock")
        self.assertEqual("java_onnxruntime", ours["backend"])
        for key in ("input", "output", "max_batch_size"):
            self.assertEqual(ours[key], stock[key], key)
        # A difference (reported, not a design decision recorded anywhere): completing a config,
        # the stock backend also turns on dynamic batching (preferred_batch_size [max_batch_size]);
        # ours leaves the scheduler as written. Pinned here so that a change is noticed.
        self.assertIn("dynamic_batching", stock)
        self.assertNotIn("dynamic_batching", ours)


IMAGE = np.zeros((1, 3, 224, 224), np.float32).tobytes()


def _binary(name, datatype, shape, size):
    return {"name": name, "datatype": datatype, "shape": shape, "parameters": {"binary_data_size": size}}


def _json(name, datatype, shape, data):
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


_SHAPE22 = _json("shape", "INT64", [2], [2, 2])
_X = _json("x", "FP32", [4], [1, 2, 3, 4])

# (what, model, JSON header, binary data, version, expected HTTP status). Decided by Triton's core
# or HTTP front end unless marked "backend": there both backends must agree on their own.
BAD_REQUESTS = [
    ("wrong dtype", "conv_net", {"inputs": [_binary("input", "INT32", [1, 3, 224, 224], len(IMAGE))]}, IMAGE, None, 400),
    ("wrong shape", "conv_net", {"inputs": [_binary("input", "FP32", [1, 3, 224, 223], 3 * 224 * 223 * 4)]},
     IMAGE[:3 * 224 * 223 * 4], None, 400),
    ("missing input", "two_input", {"inputs": [_binary("image", "FP32", [1, 3, 224, 224], len(IMAGE))]}, IMAGE, None, 400),
    ("unknown input", "conv_net", {"inputs": [_binary("input", "FP32", [1, 3, 224, 224], len(IMAGE)),
                                              _json("bogus", "FP32", [1, 1], [1])]}, IMAGE, None, 400),
    ("duplicate input", "fails_at_runtime", {"inputs": [_X, _X, _SHAPE22]}, b"", None, 400),
    ("unknown output", "conv_net", {"inputs": [_binary("input", "FP32", [1, 3, 224, 224], len(IMAGE))],
                                    "outputs": [{"name": "bogus"}]}, IMAGE, None, 400),
    ("short binary data", "conv_net", {"inputs": [_binary("input", "FP32", [1, 3, 224, 224], len(IMAGE) - 4)]},
     IMAGE[:-4], None, 400),
    ("too-long binary data", "conv_net", {"inputs": [_binary("input", "FP32", [1, 3, 224, 224], len(IMAGE) + 4)]},
     IMAGE + bytes(4), None, 400),
    ("body shorter than binary_data_size", "conv_net",
     {"inputs": [_binary("input", "FP32", [1, 3, 224, 224], len(IMAGE))]}, IMAGE[:-100], None, 400),
    ("batch over max_batch_size", "conv_net", {"inputs": [_binary("input", "FP32", [9, 3, 224, 224], 9 * len(IMAGE))]},
     IMAGE * 9, None, 400),
    ("batch sizes differ between inputs", "two_input",
     {"inputs": [_binary("image", "FP32", [1, 3, 224, 224], len(IMAGE)), _json("bias", "FP32", [2, 4], [0] * 8)]},
     IMAGE, None, 400),
    ("batch dimension on a model without batching", "fails_at_runtime",
     {"inputs": [_json("x", "FP32", [1, 4], [1, 2, 3, 4]), _SHAPE22]}, b"", None, 400),
    ("unknown datatype", "fails_at_runtime", {"inputs": [_json("x", "FP8", [4], [1, 2, 3, 4]), _SHAPE22]}, b"", None, 400),
    ("FP16 as JSON", "dtypes", {"inputs": [_json("in_fp16", "FP16", [1, 4], [1, 2, 3, 4])]}, b"", None, 400),
    ("unknown model version", "conv_net", {"inputs": [_binary("input", "FP32", [1, 3, 224, 224], len(IMAGE))]},
     IMAGE, "7", 404),
    # Triton's HTTP front end answers JSON it cannot parse with 500 (its own choice, for both).
    ("wrong JSON data count", "fails_at_runtime", {"inputs": [_json("x", "FP32", [4], [1, 2, 3]), _SHAPE22]},
     b"", None, 500),
    ("JSON data of the wrong type", "fails_at_runtime",
     {"inputs": [_json("x", "FP32", [4], ["a", "b", "c", "d"]), _SHAPE22]}, b"", None, 500),
    ("negative dimension", "fails_at_runtime", {"inputs": [_json("x", "FP32", [-1], [1, 2, 3, 4]), _SHAPE22]},
     b"", None, 500),
    # backend: ONNX Runtime fails inside Run; both backends answer INTERNAL (500).
    ("backend: Reshape fails at run time", "fails_at_runtime",
     {"inputs": [_X, _json("shape", "INT64", [2], [3, 3])]}, b"", None, 500),
    ("backend: Gather index out of range", "text_encoder",
     {"inputs": [_json("input_ids", "INT64", [1, 128], [5000] * 128)]}, b"", None, 500),
]


class SameStatus(unittest.TestCase):
    """Each bad request: the same HTTP status from both backends, an error message from each, and
    both still serve afterwards."""

    def test_bad_requests(self):
        self.assertGreaterEqual(len(BAD_REQUESTS), 10)
        for what, model, header, binary, version, status in BAD_REQUESTS:
            with self.subTest(what):
                got = {}
                for name in (model, model + SUFFIX):
                    code, answer = helpers.raw_infer(HTTP_URL, name, header, binary, version)
                    self.assertIsInstance(answer, dict, "%s: %s answered %d with no JSON: %r" % (what, name, code, answer))
                    self.assertTrue(answer.get("error"), "%s: %s answered %d without an error: %r" % (what, name, code, answer))
                    got[name] = code
                self.assertEqual(got[model], got[model + SUFFIX],
                                 "%s: ours %d, stock %d" % (what, got[model], got[model + SUFFIX]))
                self.assertEqual(status, got[model], what)
        c = httpclient.InferenceServerClient(HTTP_URL)
        tensors = helpers.load_request(os.path.join(TESTDATA, "conv_net", "request_b1.json"))
        self.assertEqual(infer(c, "conv_net", tensors), infer(c, "conv_net" + SUFFIX, tensors))

    def test_malformed_json(self):
        for name in ("conv_net", "conv_net" + SUFFIX):
            code, answer = helpers.raw_post(HTTP_URL, "/v2/models/%s/infer" % name, b'{"inputs": [ ',
                                            {"Content-Type": "application/json"})
            self.assertEqual(500, code, name)  # Triton's HTTP front end, not a backend
            self.assertIn("parse", answer["error"])


class OnPurpose(unittest.TestCase):
    """Where our backend differs from the stock one by design: named keys (issue 2's feature)."""

    def test_optional_input_left_out_names_the_key_parameter(self):
        # Ours declares image optional (a client may send a key instead); the stock copy cannot.
        # Both refuse the request with 400; ours says how to name a key.
        header = {"inputs": [_json("bias", "FP32", [1, 4], [0, 0, 0, 0])]}
        ours, ours_answer = helpers.raw_infer(HTTP_URL, "two_input", header)
        stock, stock_answer = helpers.raw_infer(HTTP_URL, "two_input" + SUFFIX, header)
        self.assertEqual((400, 400), (ours, stock))
        self.assertIn("input_cache_key.image", ours_answer["error"])
        self.assertIn("missing required input", stock_answer["error"])

    def test_key_parameter_is_ours(self):
        # The stock backend ignores request parameters it does not know; ours checks its own.
        header = {"parameters": {"input_cache_key.x": 5}, "inputs": [_X, _SHAPE22]}
        ours, answer = helpers.raw_infer(HTTP_URL, "fails_at_runtime", header)
        stock, _ = helpers.raw_infer(HTTP_URL, "fails_at_runtime" + SUFFIX, header)
        self.assertEqual((400, 200), (ours, stock))
        self.assertIn("must be a string", answer["error"])

    def test_named_key_needs_no_data_with_ours_only(self):
        c = httpclient.InferenceServerClient(HTTP_URL)
        tensors = helpers.load_request(os.path.join(TESTDATA, "two_input", "request_b1.json"))
        bias_only = [t for t in tensors if t.name != "image"]
        params = {"input_cache_key.image": "diff-%s" % uuid.uuid4().hex}
        stored = infer(c, "two_input", tensors, parameters=params)
        self.assertEqual(stored, infer(c, "two_input" + SUFFIX, tensors, parameters=params))
        self.assertEqual(stored, infer(c, "two_input", bias_only, parameters=params))
        with self.assertRaises(InferenceServerException) as cm:
            infer(c, "two_input" + SUFFIX, bias_only, parameters=params)
        self.assertEqual("400", str(cm.exception.status()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
