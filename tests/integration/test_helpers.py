"""Offline checks of helpers.py: no server, no tritonclient (CI runs these through ci-check.sh).

Uses the reference data of make_models.py where it exists (TESTDATA, default build/testdata);
the dtypes model is one Identity per input, so its inputs decoded here must equal its expected
outputs, which checks the FP16/BF16 decoding against values computed independently.
"""

import base64
import json
import os
import socket
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

TESTDATA = os.environ.get(
    "TESTDATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "testdata"))

METRICS_SAMPLE = """\
# HELP java_onnxruntime_input_cache_hits_total Inputs served from the input cache
# TYPE java_onnxruntime_input_cache_hits_total counter
java_onnxruntime_input_cache_hits_total{model="two_input",device="0"} 3
java_onnxruntime_input_cache_hits_total{model="two_input",device="1"} 2
java_onnxruntime_input_cache_hits_total{model="conv_net",device="0"} 7
# TYPE java_onnxruntime_input_cache_entries gauge
java_onnxruntime_input_cache_entries{device="0"} 4
nv_inference_count{model="conv_net",version="1"} 1.5e+01
nv_weird{path="a\\"b"} 1 1700000000000
"""


class Decoding(unittest.TestCase):
    def test_bf16_round_trip(self):
        values = np.array([1.0, -2.5, 85.0, -184.0, 0.0], dtype=np.float32)
        raw = helpers.float32_to_bf16_bytes(values)
        self.assertEqual(len(raw), 2 * values.size)
        np.testing.assert_array_equal(helpers.bf16_bytes_to_float32(raw), values)

    def test_request_with_raw_data(self):
        doc = {"inputs": [
            {"name": "h", "shape": [1, 2], "datatype": "FP16",
             "raw_data_b64": base64.b64encode(np.array([1.5, -2], dtype="<f2").tobytes()).decode()},
            {"name": "b", "shape": [1, 2], "datatype": "BF16",
             "raw_data_b64": base64.b64encode(helpers.float32_to_bf16_bytes(np.array([3, 4]))).decode()},
            {"name": "z", "shape": [2], "datatype": "BOOL", "data": [True, False]},
        ]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        try:
            h, b, z = helpers.load_request(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(h.array.dtype, np.float16)
        np.testing.assert_array_equal(h.array, [[1.5, -2]])
        self.assertEqual(b.array.dtype, np.float32)
        np.testing.assert_array_equal(b.array, [[3, 4]])
        np.testing.assert_array_equal(z.array, [True, False])

    def test_wrong_count_is_rejected(self):
        with self.assertRaises(ValueError):
            helpers._decode({"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]})


class Comparison(unittest.TestCase):
    def test_tolerance(self):
        e = helpers.Tensor("y", "FP32", [2], np.array([1.0, 100.0]))
        self.assertIsNone(helpers.mismatch(e, np.array([1.00001, 100.001], dtype=np.float32), 1e-4, 1e-5))
        self.assertIn("1 of 2", helpers.mismatch(e, np.array([1.1, 100.0]), 1e-4, 1e-5))
        self.assertIn("shape", helpers.mismatch(e, np.array([[1.0, 100.0]]), 1e-4, 1e-5))

    def test_exact_types(self):
        e = helpers.Tensor("i", "INT64", [2], np.array([-9007199254740991, 5], dtype=np.int64))
        self.assertIsNone(helpers.mismatch(e, np.array([-9007199254740991, 5]), 0, 0))
        self.assertIsNotNone(helpers.mismatch(e, np.array([-9007199254740990, 5]), 0, 0))
        b = helpers.Tensor("b", "BOOL", [2], np.array([True, False]))
        self.assertIsNone(helpers.mismatch(b, np.array([True, False]), 0, 0))


@unittest.skipUnless(os.path.isdir(TESTDATA), "no reference data in %s (make models)" % TESTDATA)
class ReferenceData(unittest.TestCase):
    def test_every_case_loads_and_matches_itself(self):
        cases = helpers.reference_cases(TESTDATA)
        models = {m for m, _, _ in cases}
        self.assertTrue({"conv_net", "text_encoder", "vit_patch", "two_input", "dtypes", "fails_at_runtime"} <= models)
        for model, request, expected in cases:
            with self.subTest(request=request):
                tensors = helpers.load_request(request)
                self.assertTrue(tensors)
                for t in tensors:
                    self.assertEqual(list(t.array.shape), t.shape)
                if expected:
                    outputs, rtol, atol = helpers.load_expected(expected)
                    for o in outputs:
                        self.assertIsNone(helpers.mismatch(o, o.array, rtol, atol))

    def test_dtypes_identity_inputs_equal_expected_outputs(self):
        for b in ("b1", "b2", "b3"):
            tensors = helpers.load_request(os.path.join(TESTDATA, "dtypes", "request_%s.json" % b))
            outputs, rtol, atol = helpers.load_expected(os.path.join(TESTDATA, "dtypes", "expected_%s.json" % b))
            by_name = {o.name: o for o in outputs}
            self.assertEqual(len(tensors), 10)
            for t in tensors:
                with self.subTest(batch=b, input=t.name):
                    o = by_name["out_" + t.name[len("in_"):]]
                    self.assertEqual(o.datatype, t.datatype)
                    self.assertIsNone(helpers.mismatch(o, t.array, rtol, atol))


class MetricsText(unittest.TestCase):
    def test_parse_and_sum(self):
        s = helpers.parse_metrics(METRICS_SAMPLE)
        hits = "java_onnxruntime_input_cache_hits_total"
        self.assertEqual(helpers.metric_sum(s, hits, model="two_input"), 5)
        self.assertEqual(helpers.metric_sum(s, hits, device="0"), 10)
        self.assertEqual(helpers.metric_sum(s, hits, model="nope"), 0)
        self.assertEqual(helpers.metric_sum(s, "nv_inference_count"), 15)
        self.assertEqual(helpers.metric_sum(s, "nv_weird", path='a"b'), 1)

    def test_garbage_is_rejected(self):
        with self.assertRaises(ValueError):
            helpers.parse_metrics("this is not prometheus\n")


class NoServer(unittest.TestCase):
    def test_wait_ready_times_out_cleanly(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens on this port now
        with self.assertRaises(TimeoutError) as cm:
            helpers.wait_ready("127.0.0.1:%d" % port, ["conv_net"], timeout_s=0, poll_s=0)
        self.assertIn("v2/health/ready", str(cm.exception))



class RawRequests(unittest.TestCase):
    def test_binary_body_says_where_the_json_ends(self):
        body, headers = helpers.kserve_body({"inputs": []}, b"\x01\x02")
        n = int(headers["Inference-Header-Content-Length"])
        self.assertEqual({"inputs": []}, json.loads(body[:n]))
        self.assertEqual(b"\x01\x02", body[n:])
        self.assertEqual("application/json", helpers.kserve_body({"inputs": []})[1]["Content-Type"])


class StockCopies(unittest.TestCase):
    """run_local.py's stock copies of a config: another name and backend, none of ours."""

    def test_stock_config(self):
        import run_local
        text = "\n".join([
            "# a comment", 'name: "two_input"', 'backend: "java_onnxruntime"', "max_batch_size: 8",
            "input [ {", '  name: "image"', "  optional: true", "} ]",
            'parameters { key: "input_cache_group" value: { string_value: "chain" } }'])
        out = run_local.stock_config(text, "two_input_stock")
        self.assertIn('name: "two_input_stock"', out)
        self.assertIn('backend: "onnxruntime"', out)
        self.assertIn("max_batch_size: 8", out)
        for gone in ("java_onnxruntime", "optional", "parameters", "comment"):
            self.assertNotIn(gone, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
