"""Inputs and outputs in system shared memory, in the real tritonserver: ours against stock.

The client puts a request's inputs into a system shared memory region (tritonclient.utils.
shared_memory) that it registers with the server over HTTP; Triton hands the backend a pointer
into that region (memory type CPU), which our backend binds in place on KIND_CPU, copies into a
cache entry (content or named key), or gathers into a batch. The same requests, from the same
regions, go to the stock backend's <model><STOCK_SUFFIX>; outputs must be equal bit for bit:
- every reference request of every example model (FP16 and BF16 too: no JSON in the way);
- with the input cache off (conv_net_cache_off), by content (conv_net_cache_content: the second
  identical request is a hit) and under a named key (two_input: stored from shared memory, then
  referenced without the data);
- an output written into a region the client registered, by ours and by stock;
- requests with inputs in shared memory and in the body sent at once (the dynamic batcher may
  gather them into one batch), each checked against its reference outputs.

Settings (environment, run_local.py sets them): TRITON_HTTP_URL, TRITON_METRICS_URL, TESTDATA,
STOCK_SUFFIX, TRITON_CLIENT_SHM=1 (the server allows client shared memory and shares this host's
/dev/shm). Unset: every test skips.
"""

import os
import sys
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tritonclient.http as httpclient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from test_differential import first_difference  # noqa: E402

HTTP_URL = os.environ.get("TRITON_HTTP_URL", "localhost:8000")
METRICS_URL = os.environ.get("TRITON_METRICS_URL", "localhost:8002")
TESTDATA = os.environ.get(
    "TESTDATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "testdata"))
SUFFIX = os.environ.get("STOCK_SUFFIX")
ALIGN = 64  # each tensor of a region starts at a multiple of this
HITS = "java_onnxruntime_input_cache_hits_total"


def setUpModule():
    if not SUFFIX or os.environ.get("TRITON_CLIENT_SHM") != "1":
        raise unittest.SkipTest("needs the stock models and client shared memory (STOCK_SUFFIX, "
                                "TRITON_CLIENT_SHM=1; run_local.py sets them)")
    helpers.wait_ready(HTTP_URL, [], timeout_s=60)


def raw_bytes(t):
    """The little-endian bytes of a request tensor, as the binary protocol carries them."""
    if t.datatype == "BF16":
        return helpers.float32_to_bf16_bytes(t.array)
    return np.ascontiguousarray(t.array).astype(np.dtype(t.array.dtype).newbyteorder("<")).tobytes()


def outputs_of(result):
    """{output name: (datatype, shape, bytes)} of a response whose outputs came in the body."""
    got = {}
    for o in result.get_response()["outputs"]:
        got[o["name"]] = (o["datatype"], list(o["shape"]),
                          np.ascontiguousarray(result.as_numpy(o["name"])).tobytes())
    return got


class SystemSharedMemory(unittest.TestCase):

    def setUp(self):
        self.c = httpclient.InferenceServerClient(HTTP_URL)
        regions = helpers.SharedMemoryRegions(self.c)
        self.shm = regions.shm
        self.region = regions.region
        self.addCleanup(regions.close)

    def shm_inputs(self, tensors):
        """InferInputs whose data lie in one new region, one tensor after another (aligned)."""
        blobs = [raw_bytes(t) for t in tensors]
        offsets, end = [], 0
        for b in blobs:
            offsets.append(end)
            end += -(-len(b) // ALIGN) * ALIGN
        name, handle = self.region(end)
        inputs = []
        for t, blob, offset in zip(tensors, blobs, offsets):
            self.shm.set_shared_memory_region(handle, [np.frombuffer(blob, dtype=np.uint8)], offset=offset)
            i = httpclient.InferInput(t.name, t.shape, t.datatype)
            i.set_shared_memory(name, len(blob), offset=offset)
            inputs.append(i)
        return inputs

    def model_outputs(self, model):
        return [o["name"] for o in self.c.get_model_metadata(model)["outputs"]]

    def infer(self, model, inputs, parameters=None):
        requested = [httpclient.InferRequestedOutput(n) for n in self.model_outputs(model)]
        return outputs_of(self.c.infer(model, inputs, outputs=requested, parameters=parameters))

    def assert_same(self, stock, ours, what):
        self.assertEqual(sorted(stock), sorted(ours), "%s: output names" % what)
        for name in stock:
            self.assertEqual(stock[name][:2], ours[name][:2], "%s %s: datatype/shape" % (what, name))
            if stock[name][2] != ours[name][2]:
                self.fail("%s output %s: %s" % (what, name, first_difference(stock[name], ours[name])))

    def loaded(self, model):
        index = {m["name"]: m.get("state") for m in self.c.get_model_repository_index()}
        if index.get(model) != "READY":
            self.skipTest("model %s is not loaded in this server (run_local.py makes it)" % model)

    def request(self, model, batch):
        return helpers.load_request(os.path.join(TESTDATA, model, "request_%s.json" % batch))

    def test_every_reference_request_equals_stock(self):
        cases = [(m, r) for m, r, e in helpers.reference_cases(TESTDATA) if e is not None]
        self.assertGreater(len(cases), 10, "no reference data in %s" % TESTDATA)
        for model, request in cases:
            with self.subTest(model=model, request=os.path.basename(request)):
                inputs = self.shm_inputs(helpers.load_request(request))
                ours = self.infer(model, inputs)
                stock = self.infer(model + SUFFIX, inputs)
                self.assert_same(stock, ours, "%s %s" % (model, os.path.basename(request)))

    def test_cache_off_equals_stock(self):
        self.loaded("conv_net_cache_off")
        for batch in ("b1", "b2", "b3"):
            with self.subTest(batch=batch):
                inputs = self.shm_inputs(self.request("conv_net", batch))
                self.assert_same(self.infer("conv_net" + SUFFIX, inputs),
                                 self.infer("conv_net_cache_off", inputs), "conv_net_cache_off " + batch)

    def test_content_keyed_equals_stock_and_hits_the_second_time(self):
        model = "conv_net_cache_content"
        self.loaded(model)
        for batch in ("b1", "b3"):
            with self.subTest(batch=batch):
                inputs = self.shm_inputs(self.request("conv_net", batch))
                stock = self.infer("conv_net" + SUFFIX, inputs)
                self.assert_same(stock, self.infer(model, inputs), "%s %s (miss)" % (model, batch))
                before = helpers.metric_sum(helpers.fetch_metrics(METRICS_URL), HITS, model=model)
                self.assert_same(stock, self.infer(model, inputs), "%s %s (hit)" % (model, batch))
                after = helpers.metric_sum(helpers.fetch_metrics(METRICS_URL), HITS, model=model)
                self.assertEqual(1, after - before, "the same bytes from shared memory again: one content hit")

    def test_named_key_stored_from_shared_memory_equals_stock(self):
        tensors = self.request("two_input", "b1")
        inputs = self.shm_inputs(tensors)
        stock = self.infer("two_input" + SUFFIX, inputs)
        key = {"input_cache_key.image": "shm-%s" % uuid.uuid4().hex}
        self.assert_same(stock, self.infer("two_input", inputs, parameters=key), "two_input (store)")
        bias_only = self.shm_inputs([t for t in tensors if t.name == "bias"])
        self.assert_same(stock, self.infer("two_input", bias_only, parameters=key), "two_input (by key)")

    def test_output_in_shared_memory_equals_stock(self):
        tensors = self.request("conv_net", "b3")
        inputs = self.shm_inputs(tensors)
        out_bytes = tensors[0].shape[0] * 10 * 4  # logits [N, 10] FP32
        got = {}
        for model in ("conv_net", "conv_net" + SUFFIX, "conv_net_cache_content"):
            if model == "conv_net_cache_content" and not any(
                    m["name"] == model for m in self.c.get_model_repository_index()):
                continue
            name, handle = self.region(out_bytes)
            o = httpclient.InferRequestedOutput("logits")
            o.set_shared_memory(name, out_bytes)
            result = self.c.infer(model, inputs, outputs=[o])
            (out,) = result.get_response()["outputs"]
            self.assertNotIn("data", out, "%s: logits came in the body" % model)
            raw = self.shm.get_contents_as_numpy(handle, np.uint8, [out_bytes]).tobytes()
            got[model] = {"logits": (out["datatype"], list(out["shape"]), raw)}
        stock = got.pop("conv_net" + SUFFIX)
        for model, ours in got.items():
            self.assert_same(stock, ours, "%s (output in shared memory)" % model)

    def test_requests_from_shared_memory_and_the_body_at_once(self):
        """Sent together, the dynamic batcher may gather them: each still gets its own rows."""
        cases = [(b, i % 2 == 0) for i, b in enumerate(("b1", "b2", "b3", "b1", "b2", "b3", "b1", "b2"))]
        prepared = []
        for batch, in_shm in cases:
            tensors = self.request("conv_net", batch)
            if in_shm:
                inputs = self.shm_inputs(tensors)
            else:
                inputs = []
                for t in tensors:
                    i = httpclient.InferInput(t.name, t.shape, t.datatype)
                    i.set_data_from_numpy(np.ascontiguousarray(t.array))
                    inputs.append(i)
            prepared.append((batch, inputs))

        def send(item):
            c = httpclient.InferenceServerClient(HTTP_URL)
            return c.infer("conv_net", item[1]).as_numpy("logits")

        with ThreadPoolExecutor(len(prepared)) as pool:
            results = list(pool.map(send, prepared))
        for (batch, _), logits in zip(prepared, results):
            expected, rtol, atol = helpers.load_expected(os.path.join(TESTDATA, "conv_net", "expected_%s.json" % batch))
            self.assertIsNone(helpers.mismatch(expected[0], logits, rtol, atol), batch)


if __name__ == "__main__":
    unittest.main()
