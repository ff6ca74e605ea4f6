#!/usr/bin/env python3
"""`make stress-triton`: the backend fuzzed in the real tritonserver over HTTP.

One tritonserver (../shared/tritonserver-2.70, CPU build; tests/integration/local_server.py
starts it on 127.0.0.1 with free ports, our backend beside the stock one) serves the example
KIND_CPU models in explicit model-control mode, with an input cache of --cache-bytes (small, so
that it evicts all the time). --clients client threads send --requests requests each over
keep-alive HTTP connections; every 10th request is malformed, in rotating kinds (MALFORMED:
bad JSON, binary_data_size too short or too long, negative, zero and huge dims, dtype mismatch,
missing, unknown and duplicate inputs, unknown outputs, wrong parameter types, 10 KB, empty and
invalid UTF-8 keys, never stored keys, ...), each of which must be answered with its expected
HTTP status. The good requests are checked against build/testdata (its tolerances; bit for bit
for the dtypes identity model) and cover: JSON and binary tensors, --keys distinct named keys
(10 per dtypes request, so the cache evicts), two_input's image (larger than the whole cache,
which content caching must pass by), the chain_encoder -> chain_head pipeline through
output_cache_key (the head's key evicted meanwhile: NOT_FOUND is the documented answer, then the
client starts again), and a model that another thread
unloads and loads again over the repository API all along (its requests get the right answer or
an error saying the model is not available).

Every request must be answered (a connection dropped or timed out is not); the server must not
crash (its exit code at SIGTERM, its log); server RSS (from /proc), the JVM heap's floor and
JavaCPP's bytes (the backend's gauges on /metrics) must not grow over the second half of the
run, and the eviction counter must move. The last line reads exactly
`sent N, answered N, identical G of G good, crashes 0, growth X%` (growth: server RSS).
Exit 0 when everything held. QUICK=1 (or --quick): 2 clients x 500 requests.

GPU mode (`--kind KIND_GPU`; bench/gpu/stress_run.sh runs it from the GPU benchmark bundle, see
bench/gpu/README.md): the same fuzz with every model's instance_group on KIND_GPU, the server
build (`--triton DIR`: DIR/bin/tritonserver) and our backend directory (`--backend DIR`, linked
as it is, e.g. with its jlinked jre/) from the bundle, the models and reference data from
`--models` and `--testdata`, the server's own environment from `--server-env NAME=VALUE`
(LD_LIBRARY_PATH, LD_PRELOAD), `-Dorg.bytedeco.javacpp.platform.extension=-gpu` added to the
JVM's options. Device memory is then sampled with every RSS sample (`nvidia-smi
--query-compute-apps`: the server process's MiB; where nvidia-smi does not list the server's pid,
e.g. from another PID namespace, `--query-gpu=memory.used` of all GPUs instead, and the output
says so) and must not grow over the second half by the same rule as RSS. The line before the
last (`verdict: ...`) then ends with `, device growth X%`; the last line keeps its form.
Two things differ on a GPU, both as for the stock backend: ONNX Runtime's CUDA Gather writes 0
for an index out of range (gather_impl.cu), so `gather_out_of_range` may be answered 200; and
its CUDA provider may run FP32 MatMul and Conv in TF32, so float outputs are compared with the
testdata's tolerances times `--tolerance-scale` (default 50 on KIND_GPU, 1 on KIND_CPU; dtypes
stays bit for bit); how many were within the unscaled tolerances is printed.
`--device-memory on` samples nvidia-smi on KIND_CPU too (a smoke test of the plumbing).
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from stress_common import growth_of, rss_kib, verdict  # noqa: E402
import helpers  # noqa: E402
import local_server  # noqa: E402

TESTDATA = os.path.join(ROOT, "build", "testdata")  # --testdata
TOLERANCE_SCALE = 1.0  # --tolerance-scale
MODELS = ["text_encoder", "dtypes", "two_input", "chain_encoder", "chain_head", "fails_at_runtime"]
RELOADED = "text_encoder_reload"  # a copy of text_encoder that the reload thread keeps cycling
DTYPES = [("in_fp32", "FP32", "<f4"), ("in_fp16", "FP16", "<f2"), ("in_bf16", "BF16", None),
          ("in_fp64", "FP64", "<f8"), ("in_int8", "INT8", "i1"), ("in_int16", "INT16", "<i2"),
          ("in_int32", "INT32", "<i4"), ("in_int64", "INT64", "<i8"), ("in_uint8", "UINT8", "u1"),
          ("in_bool", "BOOL", None)]
# Shares of the good requests (dtypes_keys is sized by --keys instead).
GOOD_SHARES = [("text_binary", 0.16), ("text_json", 0.10), ("dtypes_plain", 0.08), ("dtypes_shared_key", 0.08),
               ("two_input", 0.06), ("chain", 0.24), ("reloaded", 0.10)]
# Answers a good request may get besides a correct 200: an evicted key (documented: resend), and
# a model being unloaded or loaded (Triton's own messages).
EVICTED = re.compile(r"no cached tensor under key")
# A good request that Triton's dynamic batcher put in one batch with gather_out_of_range fails
# with it: ONNX Runtime runs the batch once. The stock backend does the same (one Run a batch).
POISONED = re.compile(r"idx=5000 must be within")
UNAVAILABLE = re.compile(r"unknown model|is not found|not ready|unavailable|is not loaded|"
                         r"no longer available|has been unloaded|is unloading", re.I)


# ---------------------------------------------------------------------------------------------
# Requests as bytes

def binary_input(name, datatype, shape, raw, **extra):
    entry = {"name": name, "datatype": datatype, "shape": list(shape),
             "parameters": {"binary_data_size": len(raw)}}
    entry.update(extra)
    return entry


def body(header, chunks=(), *, raw_json=None):
    """(body, headers): the JSON header (or raw_json bytes as they are) then the binary data."""
    head = raw_json if raw_json is not None else json.dumps(header).encode("utf-8")
    data = b"".join(chunks)
    if not data:
        return head, {"Content-Type": "application/json"}
    return head + data, {"Content-Type": "application/octet-stream",
                         "Inference-Header-Content-Length": str(len(head))}


def want_binary(*names):
    return [{"name": n, "parameters": {"binary_data": True}} for n in names]


class Reference:
    """One testdata case: its inputs as bytes and JSON, its expected outputs and tolerances."""

    def __init__(self, model, case):
        with open(os.path.join(TESTDATA, model, "request_%s.json" % case)) as f:
            self.request = json.load(f)
        self.tensors = {t.name: t for t in helpers.load_request(
            os.path.join(TESTDATA, model, "request_%s.json" % case))}
        self.expected, self.rtol, self.atol = helpers.load_expected(
            os.path.join(TESTDATA, model, "expected_%s.json" % case))
        self.expected = {t.name: t for t in self.expected}
        # the testdata's own tolerances, and those the check uses (scaled on a GPU: TF32)
        self.rtol0, self.atol0 = self.rtol, self.atol
        self.rtol, self.atol = self.rtol * TOLERANCE_SCALE, self.atol * TOLERANCE_SCALE
        self.tight = self.checked = 0  # float outputs within rtol0/atol0, float outputs checked
        self.first = {}  # (output, binary or JSON) -> the bytes of the first answer
        self.same = self.differing = 0
        self.lock = threading.Lock()

    def compare_first(self, name, binary, array):
        """Counts whether array equals, bit for bit, the first answer to this input."""
        raw = np.ascontiguousarray(array).tobytes()
        with self.lock:
            first = self.first.setdefault((name, binary), raw)
            if first == raw:
                self.same += 1
            else:
                self.differing += 1

    def raw(self, name):
        t = self.tensors[name]
        return np.ascontiguousarray(t.array, dtype=np.dtype(helpers.NUMPY_DTYPES[t.datatype]).newbyteorder("<")).tobytes()

    def json_input(self, name):
        return next(dict(i) for i in self.request["inputs"] if i["name"] == name)


def decode_outputs(answer, tail):
    """{name: numpy array} of a 200 answer: JSON data, or binary data from tail in order."""
    out, offset = {}, 0
    for o in answer.get("outputs", []):
        dt = o["datatype"]
        size = (o.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            raw = tail[offset:offset + size]
            offset += size
            if dt == "BF16":
                arr = helpers.bf16_bytes_to_float32(raw)
            else:
                arr = np.frombuffer(raw, dtype=np.dtype(helpers.NUMPY_DTYPES[dt]).newbyteorder("<"))
            out[o["name"]] = (dt, raw, arr.reshape(o["shape"]))
        else:
            out[o["name"]] = (dt, None, np.array(o["data"], dtype=helpers.NUMPY_DTYPES[dt]).reshape(o["shape"]))
    return out


def check_reference(ref, names):
    """A check of a 200 answer against ref's expected outputs (names: those the request asked for)."""
    def check(answer, tail):
        got = decode_outputs(answer, tail)
        for n in names:
            if n not in got:
                return "output %s missing" % n
            bad = helpers.mismatch(ref.expected[n], got[n][2], ref.rtol, ref.atol)
            if bad:
                return bad
            if TOLERANCE_SCALE != 1:
                tight = helpers.mismatch(ref.expected[n], got[n][2], ref.rtol0, ref.atol0) is None
                with ref.lock:
                    ref.checked += 1
                    ref.tight += tight
            ref.compare_first(n, got[n][1] is not None, got[n][2])
        return None
    return check


# ---------------------------------------------------------------------------------------------
# The good requests of one client

class Client:
    """One client thread's requests: its plan (which kind each request is), its state (the
    two_input key stored or not, the chain's next step) and its counts."""

    def __init__(self, run, index, plan):
        self.run, self.index, self.plan = run, index, plan
        self.rng = random.Random(1000 + index)
        self.key_seq = 0
        self.chain_next = "encoder"
        self.conn = None

    # good requests: (model, body, headers, check, allowed error pattern or None)
    def good(self, kind):
        r = self.run
        if kind == "text_binary":
            ref = r.text[self.rng.randrange(3)]
            return ("text_encoder",) + body({"inputs": [binary_input("input_ids", "INT64", ref.tensors["input_ids"].shape, ref.raw("input_ids"))],
                                            "outputs": want_binary("pooled")}, [ref.raw("input_ids")]) + (check_reference(ref, ["pooled"]), None)
        if kind == "text_json":
            ref = r.text[self.rng.randrange(3)]
            return ("text_encoder",) + body({"inputs": [ref.json_input("input_ids")]}) + (check_reference(ref, ["pooled"]), None)
        if kind == "reloaded":
            ref = r.text[self.rng.randrange(3)]
            return (RELOADED,) + body({"inputs": [binary_input("input_ids", "INT64", ref.tensors["input_ids"].shape, ref.raw("input_ids"))],
                                      "outputs": want_binary("pooled")}, [ref.raw("input_ids")]) + (check_reference(ref, ["pooled"]), UNAVAILABLE)
        if kind in ("dtypes_plain", "dtypes_keys", "dtypes_shared_key"):
            return self.dtypes(kind == "dtypes_keys", shared=kind == "dtypes_shared_key")
        if kind == "two_input":
            # image (602,112 bytes a row) is larger than the whole cache: content caching must
            # pass it by
            ref = r.two_input[self.rng.randrange(3)]
            return ("two_input",) + body({"inputs": [binary_input(n, "FP32", ref.tensors[n].shape, ref.raw(n)) for n in ("image", "bias")],
                                          "outputs": want_binary("out")}, [ref.raw("image"), ref.raw("bias")]) + (check_reference(ref, ["out"]), None)
        if kind == "chain":
            enc, head = r.chain
            key = "features-of-client-%d" % self.index
            if self.chain_next == "encoder":
                self.chain_next = "head"
                return ("chain_encoder",) + body({"inputs": [binary_input("image", "FP32", enc.tensors["image"].shape, enc.raw("image"))],
                                                  "outputs": want_binary("score"),
                                                  # score kept too, for key_of_wrong_shape
                                                  "parameters": {"output_cache_key.features": key,
                                                                 "output_cache_key.score": "score-of-client-%d" % self.index}},
                                                 [enc.raw("image")]) + (check_reference(enc, ["score"]), None)
            self.chain_next = "encoder"
            return ("chain_head",) + body({"inputs": [], "outputs": want_binary("logits"),
                                           "parameters": {"input_cache_key.features": key}}) + (check_reference(head, ["logits"]), EVICTED)
        raise ValueError(kind)

    def dtypes(self, keyed, shared=False):
        """Random data through the identity model, binary both ways. keyed: 10 fresh keys;
        shared: the same 10 keys from every client, each storing its own data (requests of
        several clients in one batch store one key twice): each must get its own data back."""
        batch = 8 if keyed else self.rng.randint(1, 3)  # keyed: 1,056 bytes of entries a request
        n = batch * 4
        inputs, chunks, expect, params = [], [], {}, {}
        for name, dt, np_dt in DTYPES:
            if dt == "BOOL":
                raw = bytes(self.rng.randrange(2) for _ in range(n))
            elif dt == "BF16":
                raw = helpers.float32_to_bf16_bytes(np.array([self.rng.uniform(-1e3, 1e3) for _ in range(n)], np.float32))
            elif dt.startswith("FP"):
                raw = np.array([self.rng.uniform(-1e3, 1e3) for _ in range(n)]).astype(np_dt).tobytes()
            else:
                info = np.iinfo(np.dtype(np_dt))
                raw = np.array([self.rng.randint(int(info.min), int(info.max)) for _ in range(n)]).astype(np_dt).tobytes()
            inputs.append(binary_input(name, dt, [batch, 4], raw))
            chunks.append(raw)
            expect["out" + name[2:]] = raw
            if keyed:
                params["input_cache_key." + name] = "c%d-k%d-%s" % (self.index, self.key_seq, name)
            elif shared:
                params["input_cache_key." + name] = "shared-" + name
        if keyed:
            self.key_seq += 1
            self.run.add_keys(len(DTYPES))
        header = {"inputs": inputs, "outputs": want_binary(*expect)}
        if params:
            header["parameters"] = params

        def check(answer, tail):
            got = decode_outputs(answer, tail)
            for name, raw in expect.items():
                if name not in got or got[name][1] != raw:
                    return "%s: bytes differ from the input's" % name
            return None
        return ("dtypes",) + body(header, chunks) + (check, None)

    def answered(self, kind, status, answer):
        """State changes after an answer: after evicted features the chain starts again."""
        if kind == "chain" and status != 200:
            self.chain_next = "encoder"


# ---------------------------------------------------------------------------------------------
# The malformed requests: kind -> (builder(run, client) -> (model, body, headers), expected
# HTTP status, a phrase the error must contain or None). Where Triton's core or its HTTP front
# end decides, the status is Triton's (the same for the stock backend: test_differential.py).

def _ids(run):
    return run.text[0]


def _text_binary(run, shape, raw, **kw):
    return ("text_encoder",) + body({"inputs": [binary_input("input_ids", kw.pop("datatype", "INT64"), shape, raw)],
                                     "outputs": want_binary("pooled"), **kw}, [raw])


def bad_malformed_json(run, c):
    return ("text_encoder",) + body(None, raw_json=b'{"inputs": [{"name": "input_ids", "shape": [1, 128], ')


def bad_bds_short(run, c):
    raw = _ids(run).raw("input_ids")
    return _text_binary(run, [1, 128], raw[:-8])


def bad_bds_long(run, c):
    raw = _ids(run).raw("input_ids")
    return _text_binary(run, [1, 128], raw + bytes(8))


def bad_bds_past_body(run, c):
    raw = _ids(run).raw("input_ids")
    b, h = _text_binary(run, [1, 128], raw)[1:]
    return "text_encoder", b[:-100], h


def bad_negative_dim(run, c):
    return _text_binary(run, [1, -128], _ids(run).raw("input_ids"))


def bad_zero_dim(run, c):
    return ("text_encoder",) + body({"inputs": [{"name": "input_ids", "datatype": "INT64", "shape": [0, 128],
                                                 "parameters": {"binary_data_size": 0}}]}, [b""])


def bad_huge_dim(run, c):
    return _text_binary(run, [1, 1 << 40], _ids(run).raw("input_ids"))


def bad_overflow_dims(run, c):
    return _text_binary(run, [1 << 62, 1 << 62], _ids(run).raw("input_ids"))


def bad_dtype_mismatch(run, c):
    return _text_binary(run, [1, 128], _ids(run).raw("input_ids"), datatype="FP64")


def bad_unknown_datatype(run, c):
    return _text_binary(run, [1, 128], _ids(run).raw("input_ids"), datatype="FP33")


def bad_missing_input(run, c):
    ref = run.two_input[0]
    raw = ref.raw("image")
    return ("two_input",) + body({"inputs": [binary_input("image", "FP32", [1, 3, 224, 224], raw)]}, [raw])


def bad_required_input_by_key(run, c):
    return ("text_encoder",) + body({"inputs": [], "parameters": {"input_cache_key.input_ids": "some-key"}})


def bad_unknown_input(run, c):
    raw = _ids(run).raw("input_ids")
    return ("text_encoder",) + body({"inputs": [binary_input("input_ids", "INT64", [1, 128], raw),
                                                {"name": "bogus", "datatype": "FP32", "shape": [1, 1], "data": [1]}]}, [raw])


def bad_duplicate_input(run, c):
    raw = _ids(run).raw("input_ids")
    return ("text_encoder",) + body({"inputs": [binary_input("input_ids", "INT64", [1, 128], raw)] * 2}, [raw, raw])


def bad_unknown_output(run, c):
    raw = _ids(run).raw("input_ids")
    return ("text_encoder",) + body({"inputs": [binary_input("input_ids", "INT64", [1, 128], raw)],
                                     "outputs": [{"name": "bogus"}]}, [raw])


def bad_batch_over_max(run, c):
    raw = _ids(run).raw("input_ids") * 9
    return _text_binary(run, [9, 128], raw)


def bad_json_count(run, c):
    entry = _ids(run).json_input("input_ids")
    entry["data"] = entry["data"][:-1]
    return ("text_encoder",) + body({"inputs": [entry]})


def bad_fp16_as_json(run, c):
    return ("dtypes",) + body({"inputs": [{"name": "in_fp16", "datatype": "FP16", "shape": [1, 4], "data": [1, 2, 3, 4]}]})


def _keyed_text(run, value, name="input_cache_key.input_ids", raw_json=False):
    raw = _ids(run).raw("input_ids")
    header = {"inputs": [binary_input("input_ids", "INT64", [1, 128], raw)], "outputs": want_binary("pooled"),
              "parameters": {name: value}}
    if raw_json:  # a lone surrogate in the text becomes the invalid UTF-8 byte 0xFF
        text = json.dumps(header, ensure_ascii=False).encode("utf-8", "surrogateescape")
        return ("text_encoder",) + body(None, [raw], raw_json=text)
    return ("text_encoder",) + body(header, [raw])


def bad_key_int(run, c):
    return _keyed_text(run, 42)


def bad_key_bool(run, c):
    return _keyed_text(run, True)


def bad_key_object(run, c):
    return _keyed_text(run, {"nested": "x"})


def bad_output_key_int(run, c):
    enc = run.chain[0]
    raw = enc.raw("image")
    return ("chain_encoder",) + body({"inputs": [binary_input("image", "FP32", [1, 3, 32, 32], raw)],
                                      "parameters": {"output_cache_key.features": 7}}, [raw])


def bad_key_10kb(run, c):
    return _keyed_text(run, "k" * 10240)


def bad_key_empty(run, c):
    return _keyed_text(run, "")


def bad_key_invalid_utf8(run, c):
    return _keyed_text(run, "\udcff\udcfe-not-utf8", raw_json=True)


def bad_param_name_invalid_utf8(run, c):
    return _keyed_text(run, "k", name="input_cache_key.\udcff", raw_json=True)


def bad_key_never_stored(run, c):
    ref = run.two_input[0]
    raw = ref.raw("bias")
    return ("two_input",) + body({"inputs": [binary_input("bias", "FP32", [1, 4], raw)],
                                  "parameters": {"input_cache_key.image": "never-stored-%d" % c.index}}, [raw])


def bad_key_larger_than_cache(run, c):
    ref = run.two_input[0]
    return ("two_input",) + body({"inputs": [binary_input(n, "FP32", ref.tensors[n].shape, ref.raw(n)) for n in ("image", "bias")],
                                  "parameters": {"input_cache_key.image": "too-large-%d" % c.index}},
                                 [ref.raw("image"), ref.raw("bias")])


def bad_key_of_wrong_shape(run, c):
    # the chain's encoder keeps score ([N,8]) under this key; features is [N,8,16,16]
    return ("chain_head",) + body({"inputs": [], "parameters": {"input_cache_key.features": "score-of-client-%d" % c.index}})


def bad_output_key_unknown_output(run, c):
    enc = run.chain[0]
    raw = enc.raw("image")
    return ("chain_encoder",) + body({"inputs": [binary_input("image", "FP32", [1, 3, 32, 32], raw)],
                                      "parameters": {"output_cache_key.bogus": "k"}}, [raw])


def bad_output_twice(run, c):
    enc = run.chain[0]
    raw = enc.raw("image")
    return ("chain_encoder",) + body({"inputs": [binary_input("image", "FP32", [1, 3, 32, 32], raw)],
                                      "outputs": [{"name": "score"}, {"name": "score"}]}, [raw])


def bad_key_unknown_input(run, c):
    return _keyed_text(run, "k", name="input_cache_key.bogus")


def bad_gather_out_of_range(run, c):
    raw = np.full(128, 5000, "<i8").tobytes()
    return _text_binary(run, [1, 128], raw)


def bad_reshape_at_run_time(run, c):
    return ("fails_at_runtime",) + body({"inputs": [{"name": "x", "datatype": "FP32", "shape": [4], "data": [1, 2, 3, 4]},
                                                    {"name": "shape", "datatype": "INT64", "shape": [2], "data": [3, 3]}]})


MALFORMED = {
    "malformed_json": (bad_malformed_json, 500, "parse"),  # Triton's HTTP front end
    "binary_data_size_short": (bad_bds_short, 400, None),
    "binary_data_size_long": (bad_bds_long, 400, None),
    "binary_data_size_past_body": (bad_bds_past_body, 400, None),
    "negative_dim": (bad_negative_dim, 500, "shape"),  # Triton's HTTP front end (unsigned shape)
    "zero_dim": (bad_zero_dim, 400, None),
    "huge_dim": (bad_huge_dim, 400, None),
    "overflowing_dims": (bad_overflow_dims, 400, None),
    "dtype_mismatch": (bad_dtype_mismatch, 400, None),
    "unknown_datatype": (bad_unknown_datatype, 400, None),
    "missing_input": (bad_missing_input, 400, None),
    "required_input_by_key": (bad_required_input_by_key, 400, None),
    "unknown_input": (bad_unknown_input, 400, None),
    "duplicate_input": (bad_duplicate_input, 400, None),
    "unknown_output": (bad_unknown_output, 400, None),
    "batch_over_max": (bad_batch_over_max, 400, None),
    "json_data_count": (bad_json_count, 500, None),  # Triton's HTTP front end
    "fp16_as_json": (bad_fp16_as_json, 400, None),
    "key_int": (bad_key_int, 400, "must be a string"),
    "key_bool": (bad_key_bool, 400, "must be a string"),
    "key_object": (bad_key_object, 400, None),
    "output_key_int": (bad_output_key_int, 400, "must be a string"),
    "key_10kb": (bad_key_10kb, 400, "must be 1 to 256 bytes"),
    "key_empty": (bad_key_empty, 400, "must be 1 to 256 bytes"),
    "key_invalid_utf8": (bad_key_invalid_utf8, 400, None),
    "param_name_invalid_utf8": (bad_param_name_invalid_utf8, 400, None),
    "key_never_stored": (bad_key_never_stored, 404, "no cached tensor under key"),
    # UNAVAILABLE, as the backend answers every allocation failure
    "key_larger_than_cache": (bad_key_larger_than_cache, 503, "larger than the whole input cache"),
    # 404 where the encoder's score was evicted meanwhile
    "key_of_wrong_shape": (bad_key_of_wrong_shape, (400, 404), "which this model's input does not accept|no cached tensor under key"),
    "output_key_for_unknown_output": (bad_output_key_unknown_output, 400, "names an output that model"),
    "output_twice": (bad_output_twice, 400, None),
    "key_for_unknown_input": (bad_key_unknown_input, 400, None),
    "gather_out_of_range": (bad_gather_out_of_range, 500, None),  # ONNX Runtime in Run (both backends)
    "reshape_at_run_time": (bad_reshape_at_run_time, 500, None),  # ONNX Runtime in Run (both backends)
}
# What differs on KIND_GPU (the same for the stock backend, which runs the same ONNX Runtime):
# the CUDA provider's Gather writes 0 for an index out of range instead of failing, so the
# request may succeed (200, no error to check); 500 where a node falls back to the CPU.
GPU_EXPECTED = {"gather_out_of_range": ((500, 200), None)}


# ---------------------------------------------------------------------------------------------
# The run

class Run:
    def __init__(self, args, server):
        self.args, self.server = args, server
        self.text = [Reference("text_encoder", "b%d" % b) for b in (1, 2, 3)]
        self.two_input = [Reference("two_input", "b%d" % b) for b in (1, 2, 3)]
        self.chain = (Reference("chain_encoder", "b1"), Reference("chain_head", "b1"))
        self.lock = threading.Lock()
        self.counts = dict(sent=0, answered=0, good=0, identical=0, good_allowed_errors=0,
                           good_wrong=0, poisoned=0, abandoned=0, bad=0, bad_as_expected=0, keys=0, reloads=0, reload_failures=0)
        self.by_kind = {}  # kind -> {outcome: count}
        self.findings = {}  # (kind, what) -> (count, example)
        self.samples = []
        self.total = args.clients * args.requests
        self.step = max(1, self.total // 200)
        self.done = threading.Event()
        self.jvm_mid = None
        self.device = None  # a DeviceMemory sampler, or None

    def expected(self, kind):
        """(HTTP status or statuses, phrase or None) a malformed request of kind must get."""
        if self.args.kind == "KIND_GPU" and kind in GPU_EXPECTED:
            return GPU_EXPECTED[kind]
        return MALFORMED[kind][1:]

    def mid_snapshot(self):
        self.jvm_mid = jvm_snapshot(self.server.proc.pid, True, self.args.work)

    def add_keys(self, n):
        with self.lock:
            self.counts["keys"] += n

    def finding(self, kind, what, example):
        with self.lock:
            n, ex = self.findings.get((kind, what), (0, example))
            self.findings[(kind, what)] = (n + 1, ex)

    def tally(self, kind, outcome):
        with self.lock:
            k = self.by_kind.setdefault(kind, {})
            k[outcome] = k.get(outcome, 0) + 1

    def sample(self):
        """Server RSS and the backend's gauges, taken every `step` answered requests."""
        try:
            m = helpers.fetch_metrics(self.server.metrics_url)
        except (OSError, ValueError):
            m = {}
        g = {n: helpers.metric_sum(m, "java_onnxruntime_" + n) for n in
             ("javacpp_bytes", "javacpp_pointers", "jvm_heap_used_bytes", "input_cache_evictions_total",
              "input_cache_resident_bytes", "input_cache_entries")}
        if self.device is not None:
            g["device_process_mib"], g["device_gpu_mib"] = self.device.latest
        self.samples.append((rss_kib(self.server.proc.pid) or 0, g))


def plan_for(args, index, rng):
    """The kinds of one client's requests, in order: every 10th malformed (rotating kinds), the
    dtypes_keys requests sized so that all clients together send --keys distinct keys."""
    n = args.requests
    bad_slots = [i for i in range(n) if i % 10 == 5]
    good = n - len(bad_slots)
    keyed = min(good, -(-args.keys // (10 * args.clients)))
    kinds = ["dtypes_keys"] * keyed
    rest = good - keyed
    for kind, share in GOOD_SHARES:
        kinds += [kind] * int(rest * share)
    kinds += ["text_binary"] * (good - len(kinds))
    rng.shuffle(kinds)
    names = list(MALFORMED)
    plan, it = [], iter(kinds)
    for i in range(n):
        plan.append(("bad", names[(i // 10 + index * 7) % len(names)]) if i % 10 == 5 else ("good", next(it)))
    # and after every 100th request, one the client sends on a connection it closes at once
    # (not counted in sent/answered: no answer is awaited)
    for i in range(n - 1 - (n - 1) % 100, 0, -100):
        plan.insert(i, ("gone", "client_gone"))
    return plan


def post(client, model, data, headers):
    """(status, JSON answer or text, binary tail), or raises OSError/HTTPException when no answer came."""
    if client.conn is None:
        host, port = client.run.server.http_url.split(":")
        client.conn = http.client.HTTPConnection(host, int(port), timeout=client.run.args.timeout)
    try:
        client.conn.request("POST", "/v2/models/%s/infer" % model, body=data, headers=headers)
        r = client.conn.getresponse()
        payload = r.read()
    except (OSError, http.client.HTTPException):
        client.conn.close()
        client.conn = None
        raise
    if r.getheader("Connection", "").lower() == "close":
        client.conn.close()
        client.conn = None
    n = int(r.getheader("Inference-Header-Content-Length") or len(payload))
    try:
        return r.status, json.loads(payload[:n]), payload[n:]
    except ValueError:
        return r.status, payload.decode("utf-8", "replace"), b""


def abandon(run, model, data, headers):
    """Sends a whole request on a connection of its own and closes it without reading the answer."""
    host, port = run.server.http_url.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=run.args.timeout)
    try:
        conn.request("POST", "/v2/models/%s/infer" % model, body=data, headers=headers)
    except (OSError, http.client.HTTPException):
        pass
    finally:
        conn.close()


def client_main(run, client):
    for slot, kind in client.plan:
        if slot == "gone":
            model, data, headers, _, _ = client.good("text_binary")
            abandon(run, model, data, headers)
            with run.lock:
                run.counts["abandoned"] += 1
            run.tally("client_gone", "closed before the answer")
            continue
        if slot == "good":
            model, data, headers, check, allowed = client.good(kind)
        else:
            model, data, headers = MALFORMED[kind][0](run, client)
        with run.lock:
            run.counts["sent"] += 1
        try:
            status, answer, tail = post(client, model, data, headers)
        except (OSError, http.client.HTTPException) as e:
            run.finding(kind, "no answer (%s)" % type(e).__name__, "%s: %s" % (model, e))
            run.tally(kind, "unanswered")
            continue
        with run.lock:
            run.counts["answered"] += 1
            if run.counts["answered"] % run.step == 0:
                run.sample()
            if run.counts["answered"] == run.total * 2 // 5:  # before the middle tenth RSS is read in
                threading.Thread(target=run.mid_snapshot, name="mid-snapshot").start()
            if run.counts["answered"] % max(1, run.total // 10) == 0:
                print("stress-triton: %d of %d answered" % (run.counts["answered"], run.total), file=sys.stderr, flush=True)
        error = answer.get("error", "") if isinstance(answer, dict) else str(answer)
        if slot == "good":
            client.answered(kind, status, answer)
            if status == 200:
                bad = check(answer, tail)
                with run.lock:
                    run.counts["good"] += 1
                    run.counts["identical"] += bad is None
                if bad:
                    run.finding(kind, "wrong answer", "%s: %s" % (model, bad))
                run.tally(kind, "200 right" if bad is None else "200 WRONG")
            elif status == 500 and POISONED.search(error):
                with run.lock:
                    run.counts["poisoned"] += 1
                run.tally(kind, "500 batched with a malformed one")
            elif allowed is not None and allowed.search(error) and status < 500:
                with run.lock:
                    run.counts["good_allowed_errors"] += 1
                run.tally(kind, "%d %s" % (status, "evicted" if allowed is EVICTED else "unavailable"))
            else:
                with run.lock:
                    run.counts["good"] += 1
                    run.counts["good_wrong"] += 1
                run.finding(kind, "good request refused with %d" % status, "%s: %s" % (model, error[:300]))
                run.tally(kind, "%d UNEXPECTED" % status)
        else:
            want, phrase = run.expected(kind)
            ok = status in (want if isinstance(want, tuple) else (want,)) and (status == 200 or bool(error) and (
                phrase is None or re.search(phrase, error) is not None))
            with run.lock:
                run.counts["bad"] += 1
                run.counts["bad_as_expected"] += ok
            if not ok:
                run.finding(kind, "answered %d (expected %s%s)" % (status, want, " with '%s'" % phrase if phrase else ""),
                            "%s: %s" % (model, error[:300]))
            run.tally(kind, "%d%s" % (status, "" if ok else " UNEXPECTED"))
    if client.conn is not None:
        client.conn.close()


def repository(run, model, action):
    """POST /v2/repository/models/<model>/<action>: (status, text)."""
    req = urllib.request.Request("http://%s/v2/repository/models/%s/%s" % (run.server.http_url, model, action),
                                 data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=run.args.timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)


def reload_main(run):
    """Unloads and loads RELOADED again and again until the clients are done (at most
    --max-reloads cycles), a short pause between (so that requests find it loaded too)."""
    for _ in range(run.args.max_reloads):
        if run.done.is_set():
            break
        for action in ("unload", "load"):
            status, text = repository(run, RELOADED, action)
            if status != 200:
                with run.lock:
                    run.counts["reload_failures"] += 1
                run.finding("reload thread", "%s answered %s" % (action, status), text[:300])
            run.done.wait(0.05 if action == "unload" else 0.3)
        with run.lock:
            run.counts["reloads"] += 1
    # leave it loaded
    repository(run, RELOADED, "load")


def jcmd_tool(pid):
    """The jcmd of the Java runtime that the server loaded (<home>/lib/server/libjvm.so in its
    memory map: the bundle's jlinked jre/ on the GPU machine), else the one on PATH or of the JDK."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                path = line.split()[-1]
                if path.endswith("/libjvm.so"):
                    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(path))), "bin", "jcmd")
                    if os.access(tool, os.X_OK):
                        return tool
                    break
    except (OSError, IndexError):
        pass
    return shutil.which("jcmd") or os.path.join(local_server.default_java_home() or "", "bin", "jcmd")


def jcmd(pid, *command):
    """The output of `jcmd <pid> <command>` against the JVM inside tritonserver, or None."""
    tool = jcmd_tool(pid)
    try:
        r = subprocess.run([tool, str(pid)] + list(command), capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def jvm_snapshot(pid, baseline, work):
    """After a full GC (jcmd GC.run): (heap in use, KiB; the JVM's native memory committed since
    the NMT baseline, KiB, or None when baseline is True: then the baseline is taken)."""
    if jcmd(pid, "GC.run") is None:
        return None
    info = jcmd(pid, "GC.heap_info") or ""
    m = re.search(r"heap\s+total \d+K, used (\d+)K", info)
    heap = int(m.group(1)) if m else None
    if baseline:
        jcmd(pid, "VM.native_memory", "baseline")
        _baseline_threads[pid] = jvm_threads(pid)
        return heap, None, None
    diff = jcmd(pid, "VM.native_memory", "summary.diff") or ""
    with open(os.path.join(work, "nmt-diff.txt"), "w") as f:
        f.write(diff)
    m = re.search(r"Total: reserved=\d+KB(?: [+-]\d+KB)?, committed=(\d+)KB(?: ([+-]\d+)KB)?", diff)
    # The JVM's own thread list (NMT's thread count keeps the stacks of attached threads that
    # detached, so it grows with every instance thread Triton replaces).
    now, then = jvm_threads(pid), _baseline_threads.get(pid)
    return (heap, (int(m.group(2) or 0), int(m.group(1))) if m else None,
            (now - then, now) if now is not None and then is not None else None)


_baseline_threads = {}


def jvm_threads(pid):
    """How many threads the JVM lists (jcmd Thread.print), or None."""
    dump = jcmd(pid, "Thread.print")
    return None if dump is None else len(re.findall(r'^"', dump, re.M))


class DeviceMemory:
    """Device memory in use, polled with nvidia-smi by a thread of its own every `period` seconds
    (one call takes 50-300 ms, too long to make under the clients' lock, where the RSS samples
    are taken): `latest` is (the server process's MiB summed over the GPUs, from
    --query-compute-apps, or None where nvidia-smi does not list its pid; every GPU's memory.used
    in MiB summed, or None)."""

    def __init__(self, pid, tool="nvidia-smi", period=0.5):
        self.pid, self.tool, self.period = pid, tool, period
        self.latest = (None, None)
        self.calls = self.failures = 0
        self.first = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="device-memory", daemon=True)

    def _query(self, what):
        """MiB values of one nvidia-smi query as [(fields...)], or None when it failed."""
        self.calls += 1
        try:
            r = subprocess.run([self.tool, what, "--format=csv,noheader,nounits"], capture_output=True,
                               text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            r = None
        if r is None or r.returncode != 0:
            self.failures += 1
            return None
        return [[f.strip() for f in line.split(",")] for line in r.stdout.splitlines() if line.strip()]

    def read(self):
        apps = self._query("--query-compute-apps=pid,used_memory")
        mine = [int(f[1]) for f in apps or [] if len(f) >= 2 and f[0] == str(self.pid) and f[1].isdigit()]
        gpus = self._query("--query-gpu=memory.used")
        used = [int(f[0]) for f in gpus or [] if f and f[0].isdigit()]
        return (sum(mine) if mine else None, sum(used) if used else None)

    def _loop(self):
        while not self.stopping.is_set():
            self.latest = self.read()
            self.first.set()
            self.stopping.wait(self.period)

    def start(self):
        self.thread.start()
        self.first.wait(60)
        return self

    def stop(self):
        self.stopping.set()
        self.thread.join(60)


def device_series(samples):
    """(the samples' device memory in MiB, what was measured), or (None, why) when a sample lacks it:
    the server process's own where every sample has it, else all GPUs'."""
    mine = [s[1].get("device_process_mib") for s in samples]
    if all(v is not None for v in mine):
        return mine, "the server process, nvidia-smi --query-compute-apps"
    every = [s[1].get("device_gpu_mib") for s in samples]
    if all(v is not None for v in every):
        return every, ("all GPUs, nvidia-smi --query-gpu=memory.used: the server's pid was missing from "
                       "--query-compute-apps in %d of %d samples" % (mine.count(None), len(mine)))
    return None, "nvidia-smi gave no figure in %d of %d samples" % (every.count(None), len(every))


def linked_backends(dest, ours):
    """A backend directory holding only ours: dest/java_onnxruntime, a symlink to ours (a finished
    backend directory such as the GPU bundle's, which nothing rewrites during the run)."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    os.symlink(os.path.abspath(ours), os.path.join(dest, "java_onnxruntime"))
    return dest


def private_backends(dest):
    """A backend directory of the run's own: local_server's (our backend, the stock one) copied,
    so that a `make build` elsewhere in this checkout during the run (triton-build/assemble.sh
    deletes and rewrites the .so and the jars) cannot fail the reload thread's model loads.
    Large files that are never rewritten in place (JavaCPP's cache, the stock backend's
    libraries) are hard links."""
    shared = local_server.assemble_backends(ROOT, os.path.join(ROOT, "build", "triton-backends"))
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    ours = os.path.realpath(os.path.join(shared, "java_onnxruntime"))
    for entry in os.listdir(ours):
        src = os.path.join(ours, entry)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, "java_onnxruntime", entry), copy_function=os.link)
        else:
            os.makedirs(os.path.join(dest, "java_onnxruntime"), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, "java_onnxruntime", entry))
    shutil.copytree(os.path.realpath(os.path.join(shared, "onnxruntime")), os.path.join(dest, "onnxruntime"),
                    copy_function=os.link)
    return dest


def make_repo(dest, models=os.path.join(ROOT, "model_repository"), kind="KIND_CPU"):
    """The run's repository: MODELS and RELOADED from models/ (make_models.py's), each model's
    instance_group kind set to kind."""
    shutil.rmtree(dest, ignore_errors=True)
    for m in MODELS + [RELOADED]:
        src = "text_encoder" if m == RELOADED else m
        os.makedirs(os.path.join(dest, m, "1"))
        shutil.copyfile(os.path.join(models, src, "1", "model.onnx"),
                        os.path.join(dest, m, "1", "model.onnx"))
        with open(os.path.join(models, src, "config.pbtxt")) as f:
            config = f.read()
        if m == RELOADED:
            config = re.sub(r'^name:\s*".*"', 'name: "%s"' % m, config, flags=re.M)
        if kind != "KIND_CPU":
            config, n = re.subn(r"\bkind:\s*KIND_CPU\b", "kind: " + kind, config)
            if n == 0:
                raise ValueError("%s/config.pbtxt: no instance_group kind KIND_CPU to set to %s" % (src, kind))
        with open(os.path.join(dest, m, "config.pbtxt"), "w") as f:
            f.write(config)


def crash_signs(log):
    return [line for line in log.splitlines()
            if re.search(r"Signal \((?!15\))\d+\) received|terminate called|Segmentation fault|SIGSEGV|"
                         r"A fatal error has been detected|hs_err_pid|core dumped|Aborted", line)]


def main():
    global TESTDATA, TOLERANCE_SCALE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    quick = os.environ.get("QUICK", "") not in ("", "0")
    ap.add_argument("--quick", action="store_true", default=quick, help="2 clients x 500 requests (QUICK=1)")
    ap.add_argument("--clients", type=int)
    ap.add_argument("--requests", type=int, help="requests per client")
    ap.add_argument("--keys", type=int, help="distinct named keys over the run (default 100,000; quick: 1,250)")
    ap.add_argument("--cache-bytes", type=int, default=128 << 10, help="input-cache-bytes (default 128 KiB)")
    ap.add_argument("--max-growth", type=float,
                    help="most %% growth allowed (RSS, JavaCPP, heap and NMT after GC): default 10, quick 25 "
                         "(a run that short is still warming up)")
    ap.add_argument("--max-reloads", type=int, default=100000)
    ap.add_argument("--timeout", type=float, default=300, help="seconds one request may take before it counts as unanswered")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "stress-triton"))
    # GPU mode and runs from the GPU benchmark bundle (bench/gpu/stress_run.sh)
    ap.add_argument("--kind", choices=("KIND_CPU", "KIND_GPU"), default="KIND_CPU",
                    help="every model's instance_group kind (default KIND_CPU)")
    ap.add_argument("--triton", help="a Triton build: DIR/bin/tritonserver (default: ../shared/tritonserver-2.70/cpu)")
    ap.add_argument("--backend", help="our assembled backend directory, served as it is through a symlink "
                    "(default: build/backends/java_onnxruntime, copied, beside the stock backend)")
    ap.add_argument("--models", default=os.path.join(ROOT, "model_repository"),
                    help="make_models.py's repository to take the models from (default model_repository)")
    ap.add_argument("--testdata", default=TESTDATA, help="make_models.py's reference data (default build/testdata)")
    ap.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable of the server only (repeatable)")
    ap.add_argument("--jvm-options", default="", help="more options for the JVM in the server")
    ap.add_argument("--backend-config", action="append", default=[], metavar="KEY=VALUE",
                    help="one more --backend-config=java_onnxruntime,KEY=VALUE (repeatable)")
    ap.add_argument("--tolerance-scale", type=float,
                    help="float outputs compared with the testdata's tolerances times this (default 50 on "
                         "KIND_GPU: TF32; 1 on KIND_CPU)")
    ap.add_argument("--device-memory", choices=("auto", "on", "off"), default="auto",
                    help="sample device memory with nvidia-smi (auto: on KIND_GPU)")
    ap.add_argument("--nvidia-smi", default="nvidia-smi", help="the nvidia-smi to run")
    a = ap.parse_args()
    a.clients = a.clients or (2 if a.quick else 8)
    a.requests = a.requests or (500 if a.quick else 10000)
    a.max_growth = a.max_growth if a.max_growth is not None else (25.0 if a.quick else 10.0)
    a.keys = a.keys if a.keys is not None else (1250 if a.quick else 100000)
    a.device_memory = a.device_memory == "on" or (a.device_memory == "auto" and a.kind == "KIND_GPU")
    TESTDATA = a.testdata
    TOLERANCE_SCALE = a.tolerance_scale if a.tolerance_scale is not None else (50.0 if a.kind == "KIND_GPU" else 1.0)

    if a.triton:
        binary = os.path.join(a.triton, "bin", "tritonserver")
        if not os.access(binary, os.X_OK):
            sys.exit("stress-triton: no %s" % binary)
    else:
        binary = local_server.find_server(ROOT)
        if binary is None:
            sys.exit("stress-triton: no %s/cpu/bin/tritonserver" % local_server.shared_dir(ROOT))
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    repo = os.path.join(a.work, "repo")
    make_repo(repo, a.models, a.kind)
    if a.backend:
        backends = linked_backends(os.path.join(a.work, "backends"), a.backend)
    else:
        backends = private_backends(os.path.join(a.work, "backends"))
    env = None
    if a.server_env:
        env = dict(os.environ)
        env.update(kv.split("=", 1) for kv in a.server_env)
    # A fixed heap: what grows is then the heap in use, not the heap reserved.
    # NMT: the JVM's own native memory, read with jcmd at mid-run and at the end
    jvm = "-Xms256m -Xmx256m -XX:NativeMemoryTracking=summary"
    if a.kind == "KIND_GPU":
        jvm += " -Dorg.bytedeco.javacpp.platform.extension=-gpu"
    if a.jvm_options:
        jvm += " " + a.jvm_options
    server = local_server.TritonServer(
        binary, repo, backends, log_path=os.path.join(a.work, "server.log"), env=env,
        args=["--model-control-mode=explicit", "--load-model=*", "--log-verbose=0"],
        backend_config=["java_onnxruntime,input-cache-bytes=%d" % a.cache_bytes,
                        "java_onnxruntime,jvm-options=" + jvm]
        + ["java_onnxruntime," + c for c in a.backend_config])
    started = time.monotonic()
    server.start(timeout=600)
    helpers.wait_ready(server.http_url, MODELS + [RELOADED], timeout_s=600, poll_s=0.5)
    run = Run(a, server)
    if a.device_memory:
        run.device = DeviceMemory(server.proc.pid, a.nvidia_smi).start()
    run.sample()
    clients = [Client(run, i, plan_for(a, i, random.Random(i))) for i in range(a.clients)]
    threads = [threading.Thread(target=client_main, args=(run, c), name="client-%d" % c.index) for c in clients]
    reloader = threading.Thread(target=reload_main, args=(run,), name="reload")
    for t in threads:
        t.start()
    reloader.start()
    for t in threads:
        t.join()
    run.done.set()
    reloader.join()
    for t in threading.enumerate():
        if t.name == "mid-snapshot":
            t.join()
    jvm_end = jvm_snapshot(server.proc.pid, False, a.work) if run.jvm_mid else None
    run.native_threads = len(os.listdir("/proc/%d/task" % server.proc.pid))
    run.sample()
    if run.device is not None:
        run.device.stop()
    alive = server.running()
    code = server.stop(timeout=120) if alive else server.proc.returncode
    elapsed = time.monotonic() - started
    log = server.log()
    signs = crash_signs(log)
    crashes = 0 if alive and code == 0 and not signs else 1

    c = run.counts
    print("stress-triton: %d clients x %d requests, input-cache-bytes %d, %.0f s (server start to stop)%s"
          % (a.clients, a.requests, a.cache_bytes, elapsed, "" if a.kind == "KIND_CPU" else ", " + a.kind))
    for kind in sorted(run.by_kind):
        print("  %-27s %s" % (kind, ", ".join("%s: %d" % kv for kv in sorted(run.by_kind[kind].items()))))
    rss = [s[0] for s in run.samples]
    heap = [s[1]["jvm_heap_used_bytes"] for s in run.samples]
    native = [s[1]["javacpp_bytes"] for s in run.samples]
    evictions = [s[1]["input_cache_evictions_total"] for s in run.samples]
    g_rss, g_heap, g_native = growth_of(rss), growth_of(heap, floor=True), growth_of(native)
    print("malformed: %d sent, %d answered as expected (%d kinds); good answered with an allowed error "
          "(evicted key, model unloaded): %d" % (c["bad"], c["bad_as_expected"], len(MALFORMED), c["good_allowed_errors"]))
    print("requests whose client closed the connection at once (not in sent/answered): %d" % c["abandoned"])
    print("good requests failed with a malformed request the dynamic batcher put in their batch "
          "(as with the stock backend): %d" % c["poisoned"])
    refs = run.text + run.two_input + list(run.chain)
    print("good answers bit-identical to the first answer of the same input (dynamic batching may "
          "change the last bit; not a failure): %d of %d" % (sum(r.same for r in refs),
                                                            sum(r.same + r.differing for r in refs)))
    print("named keys sent: %d distinct; evictions: %d at start, %d at mid-run, %d at end; reload cycles: %d (%d failed)"
          % (c["keys"], evictions[0], evictions[len(evictions) // 2], evictions[-1], c["reloads"], c["reload_failures"]))
    print("memory over the second half (%d samples): server RSS %d -> %d MiB (%.1f%%), JVM heap floor %.1f%% "
          "(%d MiB at end), JavaCPP %d -> %d B (%.1f%%)"
          % (len(rss), rss[len(rss) // 2] // 1024, rss[-1] // 1024, g_rss, g_heap, heap[-1] // (1 << 20),
             native[len(native) // 2], native[-1], g_native))
    dev = g_dev = None
    if run.device is not None:
        dev, where = device_series(run.samples)
        if dev is not None:
            g_dev = growth_of(dev)
            print("device memory over the second half (%d samples; %s): %d -> %d MiB (%.1f%%), %d MiB at most; "
                  "nvidia-smi calls %d (%d failed)" % (len(dev), where, dev[len(dev) // 2], dev[-1], g_dev, max(dev),
                                                        run.device.calls, run.device.failures))
        else:
            print("device memory: not measured (%s; nvidia-smi calls %d, %d failed)"
                  % (where, run.device.calls, run.device.failures))
    if TOLERANCE_SCALE != 1:
        print("good float outputs within the testdata's own tolerances (checked with them x%g): %d of %d"
              % (TOLERANCE_SCALE, sum(r.tight for r in refs), sum(r.checked for r in refs)))
    heap_gc = nmt = threads = None
    if run.jvm_mid and jvm_end and run.jvm_mid[0] and jvm_end[0]:
        heap_gc = 100.0 * (jvm_end[0] - run.jvm_mid[0]) / run.jvm_mid[0]
        nmt, threads = jvm_end[1], jvm_end[2]
        if threads:
            # Triton's threads (model instances, loads) end and new ones start with each reload;
            # the JVM must not keep a thread for each that ended (the native count is flat).
            print("JVM threads (Thread.print): %d at the end, %+d since 40%% of the run; native threads of the "
                  "server now: %d" % (threads[1], threads[0], run.native_threads))
        print("after a full GC (jcmd): JVM heap at 40%% and at the end %d -> %d KiB (%.1f%%); JVM native memory (NMT) committed "
              "%s KiB since 40%% of the run%s" % (run.jvm_mid[0], jvm_end[0], heap_gc,
                                          "%+d" % nmt[0] if nmt else "?", " (of %d KiB)" % nmt[1] if nmt else ""))
    else:
        print("after a full GC: not measured (jcmd missing or refused); JVM heap floor from /metrics only")
    print("server: exit code %s%s" % (code, "" if alive else " (it had died during the run)"))
    for line in signs[:10]:
        print("  log: " + line)
    for (kind, what), (n, example) in sorted(run.findings.items()):
        print("FINDING %s: %s x%d, e.g. %s" % (kind, what, n, example))
    def grew(g, values, slack):
        # more than --max-growth %, and (for the small gauges) by more than slack absolute
        n = len(values)
        return g == g and g > a.max_growth and (max(values[int(n * 0.9):]) - min(values[int(n * 0.45):int(n * 0.55) + 1])) > slack

    with open(os.path.join(a.work, "samples.json"), "w") as f:
        json.dump(run.samples, f)
    failures = [what for what, bad in [
        ("requests unanswered", c["answered"] != c["sent"]),
        ("good answers wrong or refused", c["identical"] != c["good"]),
        ("the server crashed", crashes),
        ("findings", run.findings),
        ("malformed requests answered otherwise than expected", c["bad_as_expected"] != c["bad"]),
        ("no eviction over the second half", not evictions[-1] > evictions[len(evictions) // 2]),
        ("server RSS grew", grew(g_rss, rss, 0)),
        ("JVM heap floor grew (no jcmd to tell after a full GC)", heap_gc is None and grew(g_heap, heap, 16 << 20)),
        ("JavaCPP bytes grew", grew(g_native, native, 1 << 20)),
        ("JVM heap after full GC grew", heap_gc is not None and heap_gc > a.max_growth
         and jvm_end[0] - run.jvm_mid[0] > 8 << 10),
        ("JVM threads grew (threads that ended still attached?)", threads is not None and threads[0] > 8),
        ("JVM native memory grew", nmt is not None and nmt[0] > max(8 << 10, nmt[1] * a.max_growth / 100)),
        ("device memory not measured", run.device is not None and dev is None),
        ("device memory grew", dev is not None and grew(g_dev, dev, 0))] if bad]
    print("verdict: " + ("; ".join(failures) if failures else "all held") + " (samples: %s)"
          % os.path.join(a.work, "samples.json")
          + (", device growth %.1f%%" % g_dev if g_dev is not None else ", device growth ?" if run.device else ""))
    failed = bool(failures)
    print(verdict(c["sent"], c["answered"], c["identical"], c["good"], crashes, g_rss))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
