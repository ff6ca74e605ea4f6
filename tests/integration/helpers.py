"""Client-side helpers of the integration tests: no tritonclient and no server needed.

Reads the reference data that model_repository/make_models.py writes (``<testdata>/<model>/
request_*.json`` and ``expected_*.json``), compares outputs with its tolerances, and parses
Triton's Prometheus metrics text. test_helpers.py checks these offline (CI runs it);
test_server.py uses them against a running server.
"""

import base64
import http.client
import json
import os
import re
import time
import uuid
import urllib.error
import urllib.request

import numpy as np

# KServe v2 datatype -> numpy dtype of the values a client hands to tritonclient.
# BF16 has no numpy dtype: tritonclient takes (and returns) float32 for it.
NUMPY_DTYPES = {
    "BOOL": np.bool_,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BF16": np.float32,
}


def bf16_bytes_to_float32(raw):
    """Little-endian bfloat16 bytes -> float32 values (exact: bf16 is float32's top half)."""
    halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
    return (halves << 16).view(np.float32)


def float32_to_bf16_bytes(values):
    """float32 values -> little-endian bfloat16 bytes by truncation (as tritonclient does)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    return (bits >> 16).astype("<u2").tobytes()


class Tensor:
    """One input or expected output: name, KServe datatype, shape and numpy values."""

    def __init__(self, name, datatype, shape, array):
        self.name = name
        self.datatype = datatype
        self.shape = [int(d) for d in shape]
        self.array = array

    def __repr__(self):
        return "Tensor(%s %s %s)" % (self.name, self.datatype, self.shape)


def _decode(entry):
    datatype = entry["datatype"]
    shape = entry["shape"]
    if datatype not in NUMPY_DTYPES:
        raise ValueError("unsupported datatype %s for %s" % (datatype, entry["name"]))
    if "raw_data_b64" in entry:
        raw = base64.b64decode(entry["raw_data_b64"])
        if datatype == "BF16":
            array = bf16_bytes_to_float32(raw)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(NUMPY_DTYPES[datatype]).newbyteorder("<"))
    else:
        array = np.array(entry["data"], dtype=NUMPY_DTYPES[datatype])
    count = int(np.prod(shape)) if shape else 1
    if array.size != count:
        raise ValueError("%s: %d values for shape %s" % (entry["name"], array.size, shape))
    return Tensor(entry["name"], datatype, shape, array.reshape(shape).astype(NUMPY_DTYPES[datatype]))


def load_request(path):
    """The inputs of a request file, in file order, as Tensors."""
    with open(path) as f:
        doc = json.load(f)
    return [_decode(e) for e in doc["inputs"]]


def load_expected(path):
    """(outputs as Tensors, rtol, atol) of an expected file; FP16/BF16 values are decoded floats."""
    with open(path) as f:
        doc = json.load(f)
    outputs = []
    for e in doc["outputs"]:
        values = np.array(e["data"], dtype=np.float64 if e["datatype"] in ("FP16", "BF16") else NUMPY_DTYPES[e["datatype"]])
        outputs.append(Tensor(e["name"], e["datatype"], e["shape"], values.reshape(e["shape"])))
    return outputs, float(doc.get("rtol", 0.0)), float(doc.get("atol", 0.0))


def mismatch(expected, got, rtol, atol):
    """None when got matches expected (|got - exp| <= atol + rtol * |exp|), else a message."""
    got = np.asarray(got)
    if list(got.shape) != list(expected.shape):
        return "%s: shape %s, expected %s" % (expected.name, list(got.shape), expected.shape)
    if expected.datatype == "BOOL":
        bad = got.astype(bool) != expected.array.astype(bool)
    elif expected.datatype in ("FP16", "BF16", "FP32", "FP64"):
        exp = expected.array.astype(np.float64)
        bad = np.abs(got.astype(np.float64) - exp) > atol + rtol * np.abs(exp)
    else:
        bad = got.astype(np.int64) != expected.array.astype(np.int64)
    if not np.any(bad):
        return None
    i = int(np.flatnonzero(bad)[0])
    return "%s: %d of %d values differ; first at flat index %d: got %r, expected %r (rtol %g, atol %g)" % (
        expected.name, int(np.count_nonzero(bad)), bad.size, i, got.reshape(-1)[i],
        expected.array.reshape(-1)[i], rtol, atol)


def reference_cases(testdata):
    """(model, request path, expected path or None) for every reference request of the testdata."""
    cases = []
    for model in sorted(os.listdir(testdata)):
        d = os.path.join(testdata, model)
        if model == "seed" or not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            m = re.match(r"request_(\w+)\.json$", name)
            if m:
                expected = os.path.join(d, "expected_%s.json" % m.group(1))
                cases.append((model, os.path.join(d, name), expected if os.path.exists(expected) else None))
    return cases


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset of (label, value)): float}."""
    samples = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("not a Prometheus sample line: %r" % line)
        labels = frozenset(
            (k, bytes(v, "utf-8").decode("unicode_escape")) for k, v in _LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def metric_sum(samples, name, **labels):
    """The sum of a metric over the samples whose labels include the given ones (0 if none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def fetch_metrics(url, timeout=10):
    """GET http://<url>/metrics, parsed."""
    with urllib.request.urlopen("http://%s/metrics" % url, timeout=timeout) as r:
        return parse_metrics(r.read().decode("utf-8"))


def wait_ready(http_url, models, timeout_s=300, poll_s=2):
    """Waits until the server and every model answer ready on HTTP; raises TimeoutError."""
    deadline = time.monotonic() + timeout_s
    pending = ["v2/health/ready"] + ["v2/models/%s/ready" % m for m in models]
    last = None
    while pending:
        try:
            with urllib.request.urlopen("http://%s/%s" % (http_url, pending[0]), timeout=5) as r:
                if r.status == 200:
                    pending.pop(0)
                    continue
        except (urllib.error.URLError, OSError) as e:
            last = e
        if time.monotonic() > deadline:
            raise TimeoutError("not ready after %ds: %s (last error: %s)" % (timeout_s, pending[0], last))
        time.sleep(poll_s)


def kserve_body(header, binary=b""):
    """(body, headers) of a KServe v2 inference request: the JSON header, then the binary tensor
    data (Triton's binary extension: Inference-Header-Content-Length says where the JSON ends)."""
    head = json.dumps(header).encode("utf-8")
    if not binary:
        return head, {"Content-Type": "application/json"}
    return head + binary, {"Content-Type": "application/octet-stream",
                           "Inference-Header-Content-Length": str(len(head))}


def raw_post(url, path, body, headers, timeout=60):
    """POSTs bytes as they are (for requests tritonclient refuses to build); returns (HTTP status,
    the JSON answer or, when it is not JSON, its text)."""
    host, _, port = url.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    try:
        return r.status, json.loads(data[:int(r.getheader("Inference-Header-Content-Length") or len(data))])
    except ValueError:
        return r.status, data.decode("utf-8", "replace")


def raw_infer(url, model, header, binary=b"", version=None):
    """One inference request, sent as raw KServe v2 JSON (+ binary data): (status, answer)."""
    path = "/v2/models/%s%s/infer" % (model, "/versions/%s" % version if version else "")
    body, headers = kserve_body(header, binary)
    return raw_post(url, path, body, headers)


class SharedMemoryRegions:
    """A test's system shared memory regions (tritonclient.utils.shared_memory), registered with
    the server through client and unregistered and destroyed when the test ends."""

    def __init__(self, client):
        import tritonclient.utils.shared_memory as shm
        self.shm = shm
        self.client = client
        self.regions = []

    def region(self, nbytes):
        """(name, handle) of a new region of nbytes (at least 1), registered with the server."""
        name = "it-%s" % uuid.uuid4().hex[:12]
        nbytes = max(nbytes, 1)
        handle = self.shm.create_shared_memory_region(name, "/" + name, nbytes)
        self.regions.append((name, handle))
        self.client.register_system_shared_memory(name, "/" + name, nbytes)
        return name, handle

    def close(self):
        for name, handle in self.regions:
            try:
                self.client.unregister_system_shared_memory(name)
            finally:
                self.shm.destroy_shared_memory_region(handle)
