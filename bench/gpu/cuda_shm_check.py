"""Inputs in CUDA shared memory (and system shared memory) in the real tritonserver: ours against
stock, on KIND_GPU and KIND_CPU instances, with the input cache off, by content and under a named
key (and a CUDA graph on the GPU). Standard library, numpy and ctypes to libcudart only: no
tritonclient, no cuda-python, no torch.

  python3 cuda_shm_check.py repo WORK EXAMPLES     # writes WORK/repo (the models below)
  python3 cuda_shm_check.py check URL OUTDIR       # sends the requests, prints the table

Models: conv_net, two_input and text_encoder from EXAMPLES, each as <model>__<variant>__<kind>
(kind gpu or cpu, one instance): stock (backend onnxruntime) and ours with input_cache off,
content and key (two_input: image keyed, declared optional), and on the GPU conv_net with
cuda_graph on. A client region is allocated with cudaMalloc, filled with cudaMemcpy, and
registered with its cudaIpcGetMemHandle through Triton's HTTP API
(/v2/cudasharedmemory/region/<name>/register, the raw handle base64); system shared memory is
a /dev/shm file registered through /v2/systemsharedmemory. Every answer is compared bit for bit
with the stock backend's answer, on the same instance kind, to the same data sent in the body.
The table's last line: `cuda-shm check: N passed, N failed (N info)`; the exit code is 1 on a
failure. Where libcudart does not load (a CPU machine) the CUDA rows are skipped, the rest runs.
"""

import base64
import ctypes
import http.client
import json
import mmap
import os
import re
import sys
import uuid

import numpy as np

MODELS = {  # model -> variants (besides stock) and the batches sent
    "conv_net": (("off", "content", "key", "graph"), (1, 3)),
    "two_input": (("off", "key"), (1, 2)),
    "text_encoder": (("off", "content"), (2,)),
}
PARAMS = {  # eager unless "graph" (cuda_graph is on by default on KIND_GPU)
    "off": {"input_cache": "off", "cuda_graph": "off"},
    "content": {"input_cache": "content", "cuda_graph": "off"},
    "key": {"input_cache": "key", "cuda_graph": "off"},
    "graph": {"input_cache": "off", "cuda_graph": "on", "cuda_graph_batch_sizes": "1"},
}
KEYED = {"two_input": "image", "conv_net": "input"}  # the input a key variant names
HITS = "java_onnxruntime_input_cache_hits_total"
KINDS = os.environ.get("KINDS", "gpu,cpu").split(",")  # KINDS=cpu: a smoke test on a CPU build


# ---------------------------------------------------------------------------------------------
# The repository


def stock_text(text):
    """Our config for the stock backend: no parameters, no optional inputs, no comments."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s == "optional: true" or s.startswith("#") or s.startswith("parameters"):
            continue
        out.append(line)
    text = "\n".join(out) + "\n"
    return re.sub(r'^backend:\s*"[^"]*"', 'backend: "onnxruntime"', text, flags=re.M)


def make_repo(work, examples):
    repo = os.path.join(work, "repo")
    os.makedirs(repo, exist_ok=True)
    names = []
    for model, (variants, _) in MODELS.items():
        with open(os.path.join(examples, model, "config.pbtxt")) as f:
            base = f.read()
        onnx = os.path.abspath(os.path.join(examples, model, "1", "model.onnx"))
        for kind in KINDS:
            for variant in ("stock",) + variants:
                if variant == "graph" and kind == "cpu":
                    continue
                name = "%s__%s__%s" % (model, variant, kind)
                text = re.sub(r'^name:\s*"[^"]*"', 'name: "%s"' % name, base, flags=re.M)
                text = re.sub(r"instance_group \[.*\]", "instance_group [ { kind: KIND_%s count: 1 } ]"
                              % kind.upper(), text)
                text = stock_text(text) if variant == "stock" else text
                for k, v in PARAMS.get(variant, {}).items():
                    text += 'parameters { key: "%s" value: { string_value: "%s" } }\n' % (k, v)
                if variant == "key" and model == "two_input":
                    text += 'parameters { key: "input_cache.bias" value: { string_value: "off" } }\n'
                d = os.path.join(repo, name, "1")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
                    f.write(text)
                link = os.path.join(d, "model.onnx")
                if os.path.lexists(link):
                    os.unlink(link)
                os.symlink(onnx, link)
                names.append(name)
    print("%d models in %s" % (len(names), repo))


# ---------------------------------------------------------------------------------------------
# Client memory: CUDA (ctypes to libcudart) and system shared memory


class Cuda:
    """The few cudart calls a client region needs. None of this object's regions outlive it."""

    def __init__(self):
        self.lib = None
        for name in ("libcudart.so.13", "libcudart.so.12", "libcudart.so"):
            try:
                self.lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        self.devices = 0
        if self.lib is not None:
            n = ctypes.c_int(0)
            if self.lib.cudaGetDeviceCount(ctypes.byref(n)) == 0:
                self.devices = n.value

    def check(self, err, call):
        if err != 0:
            self.lib.cudaGetErrorString.restype = ctypes.c_char_p
            raise RuntimeError("%s failed: %d %s" % (call, err, self.lib.cudaGetErrorString(err).decode()))

    def region(self, device, data):
        """(device pointer, 64-byte IPC handle) of a new allocation holding data."""
        self.check(self.lib.cudaSetDevice(device), "cudaSetDevice")
        ptr = ctypes.c_void_p()
        self.check(self.lib.cudaMalloc(ctypes.byref(ptr), ctypes.c_size_t(max(len(data), 1))), "cudaMalloc")
        buf = ctypes.create_string_buffer(data, len(data))
        self.check(self.lib.cudaMemcpy(ptr, buf, ctypes.c_size_t(len(data)), 1), "cudaMemcpy(HtoD)")
        handle = ctypes.create_string_buffer(64)
        self.check(self.lib.cudaIpcGetMemHandle(handle, ptr), "cudaIpcGetMemHandle")
        return ptr, handle.raw

    def read(self, device, ptr, size):
        self.check(self.lib.cudaSetDevice(device), "cudaSetDevice")
        buf = ctypes.create_string_buffer(size)
        self.check(self.lib.cudaMemcpy(buf, ptr, ctypes.c_size_t(size), 2), "cudaMemcpy(DtoH)")
        return buf.raw

    def free(self, device, ptr):
        self.lib.cudaSetDevice(device)
        self.lib.cudaFree(ptr)


class Server:
    """HTTP to the server: JSON calls, infer with shm or body inputs (binary outputs)."""

    def __init__(self, url):
        host, port = url.split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.read(), r.getheader("Inference-Header-Content-Length")

    def post_json(self, path, doc):
        status, body, _ = self.call("POST", path, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError("%s: HTTP %d %s" % (path, status, body[:300]))

    def infer(self, model, inputs, outputs, parameters=None):
        """(status, {output: (datatype, shape, bytes)} or error text). inputs: name -> (dtype,
        shape, bytes) sent in the body, or (dtype, shape, (region, size, offset)) in shared memory.
        outputs: names (binary in the body) or name -> (region, size) in shared memory."""
        tensors, data = [], []
        for name, (dtype, shape, payload) in inputs.items():
            t = {"name": name, "shape": list(shape), "datatype": dtype}
            if isinstance(payload, tuple):
                t["parameters"] = {"shared_memory_region": payload[0], "shared_memory_byte_size": payload[1],
                                   "shared_memory_offset": payload[2]}
            else:
                t["parameters"] = {"binary_data_size": len(payload)}
                data.append(payload)
            tensors.append(t)
        outs = []
        for o in outputs:
            if isinstance(outputs, dict):
                outs.append({"name": o, "parameters": {"shared_memory_region": outputs[o][0],
                                                       "shared_memory_byte_size": outputs[o][1]}})
            else:
                outs.append({"name": o, "parameters": {"binary_data": True}})
        header = {"inputs": tensors, "outputs": outs}
        if parameters:
            header["parameters"] = parameters
        head = json.dumps(header).encode()
        status, body, length = self.call("POST", "/v2/models/%s/infer" % model, head + b"".join(data),
                                         {"Inference-Header-Content-Length": str(len(head)),
                                          "Content-Type": "application/octet-stream"})
        if status != 200:
            try:
                return status, json.loads(body).get("error", body[:300])
            except ValueError:
                return status, body[:300]
        length = int(length) if length is not None else len(body)
        doc = json.loads(body[:length])
        got, offset = {}, length
        for o in doc.get("outputs", []):
            size = o.get("parameters", {}).get("binary_data_size")
            raw = None
            if size is not None:
                raw = body[offset:offset + size]
                offset += size
            got[o["name"]] = (o["datatype"], o["shape"], raw)
        return status, got

    def hits(self, metrics_url, model):
        host, port = metrics_url.split(":")
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(HITS + "{") and 'model="%s"' % model in line:
                total += float(line.split()[-1])
        return total


# ---------------------------------------------------------------------------------------------
# The check


def requests_for(model, batch, seed):
    """name -> (dtype, shape, bytes) of deterministic inputs (floats exact in FP32)."""
    rng = np.random.default_rng(seed)
    if model == "text_encoder":
        return {"input_ids": ("INT64", [batch, 128], rng.integers(0, 1000, (batch, 128), dtype=np.int64).tobytes())}
    image = (rng.integers(-256, 257, (batch, 3, 224, 224)) / 256.0).astype(np.float32)
    inputs = {"image" if model == "two_input" else "input": ("FP32", list(image.shape), image.tobytes())}
    if model == "two_input":
        inputs["bias"] = ("FP32", [batch, 4], (rng.integers(-256, 257, (batch, 4)) / 256.0).astype(np.float32).tobytes())
    return inputs


class Check:
    def __init__(self, url, outdir):
        self.server = Server(url)
        self.metrics_url = url.rsplit(":", 1)[0] + ":" + str(int(url.rsplit(":", 1)[1]) + 2)
        self.outdir = outdir
        self.cuda = Cuda()
        self.rows = []
        self.cuda_regions = []  # (name, device, ptr)
        self.sys_regions = []   # (name, path)

    def row(self, verdict, kind, model, variant, batch, where, detail=""):
        self.rows.append((verdict, kind, model, variant, str(batch), where, detail))

    # Regions -------------------------------------------------------------------------------
    def place(self, inputs, where, names=None):
        """The inputs with those named (all by default) in one new region at where: 'body',
        'sys' (system shared memory) or 'cuda:<device>'."""
        if where == "body":
            return dict(inputs)
        names = [n for n in inputs if names is None or n in names]
        blob, offsets = b"", {}
        for n in names:
            offsets[n] = len(blob)
            raw = inputs[n][2]
            blob += raw + b"\0" * (-len(raw) % 256)
        region = "chk-%s" % uuid.uuid4().hex[:12]
        if where == "sys":
            path = "/dev/shm/" + region
            with open(path, "wb") as f:
                f.write(blob)
            self.server.post_json("/v2/systemsharedmemory/region/%s/register" % region,
                                  {"key": "/" + region, "offset": 0, "byte_size": len(blob)})
            self.sys_regions.append((region, path))
        else:
            device = int(where.split(":")[1])
            ptr, handle = self.cuda.region(device, blob)
            self.cuda_regions.append((region, device, ptr))
            self.server.post_json("/v2/cudasharedmemory/region/%s/register" % region,
                                  {"raw_handle": {"b64": base64.b64encode(handle).decode()},
                                   "device_id": device, "byte_size": len(blob)})
        placed = dict(inputs)
        for n in names:
            placed[n] = (inputs[n][0], inputs[n][1], (region, len(inputs[n][2]), offsets[n]))
        return placed

    def release(self):
        for region, device, ptr in self.cuda_regions:
            try:
                self.server.post_json("/v2/cudasharedmemory/region/%s/unregister" % region, {})
            except RuntimeError as e:
                print("unregister %s: %s" % (region, e), file=sys.stderr)
            self.cuda.free(device, ptr)
        for region, path in self.sys_regions:
            try:
                self.server.post_json("/v2/systemsharedmemory/region/%s/unregister" % region, {})
            except RuntimeError as e:
                print("unregister %s: %s" % (region, e), file=sys.stderr)
            os.unlink(path)
        self.cuda_regions, self.sys_regions = [], []

    # Comparisons ---------------------------------------------------------------------------
    @staticmethod
    def outputs(model):
        return {"conv_net": ["logits"], "two_input": ["out"], "text_encoder": ["pooled"]}[model]

    def compare(self, reference, got):
        """'' when equal bit for bit, else what differs."""
        for name, (dtype, shape, raw) in reference.items():
            if name not in got:
                return "no output %s" % name
            if [dtype, shape] != list(got[name][:2]):
                return "%s: %s %s, stock %s %s" % (name, got[name][0], got[name][1], dtype, shape)
            if raw != got[name][2]:
                a = np.frombuffer(got[name][2], np.float32 if dtype == "FP32" else np.uint8)
                b = np.frombuffer(raw, np.float32 if dtype == "FP32" else np.uint8)
                return "%s: %d of %d values differ, max |diff| %g" % (
                    name, int(np.count_nonzero(a != b)), a.size, float(np.max(np.abs(a.astype(float) - b))))
        return ""

    def expect(self, kind, model, variant, batch, where, inputs, reference, parameters=None, what=""):
        name = "%s__%s__%s" % (model, variant, kind)
        status, got = self.server.infer(name, inputs, self.outputs(model), parameters)
        label = variant + (" " + what if what else "")
        if status != 200:
            self.row("FAIL", kind, model, label, batch, where, "HTTP %d: %s" % (status, str(got)[:160]))
            return
        problem = self.compare(reference, got)
        self.row("FAIL" if problem else "PASS", kind, model, label, batch, where,
                 problem or "bit-identical to stock (body)")

    def run(self):
        places = ["sys"]
        if self.cuda.devices > 0:
            places += ["cuda:0"] + (["cuda:1"] if self.cuda.devices > 1 else [])
        else:
            self.row("SKIP", "-", "-", "-", "-", "cuda", "libcudart not loadable or no device: no CUDA rows")
        for kind in KINDS:
            for model, (variants, batches) in MODELS.items():
                for batch in batches:
                    inputs = requests_for(model, batch, seed=batch * 7 + len(model))
                    status, reference = self.server.infer("%s__stock__%s" % (model, kind), inputs, self.outputs(model))
                    if status != 200:
                        self.row("FAIL", kind, model, "stock", batch, "body", "HTTP %d: %s" % (status, reference))
                        continue
                    for where in places:
                        placed = self.place(inputs, where)
                        self.expect(kind, model, "stock", batch, where, placed, reference)
                        for variant in variants:
                            if variant == "graph" and kind == "cpu":
                                continue
                            if variant == "key":
                                self.keyed(kind, model, batch, where, inputs, reference)
                                continue
                            repeats = {"content": 2, "graph": 3}.get(variant, 1)
                            before = self.server.hits(self.metrics_url, "%s__%s__%s" % (model, variant, kind))
                            for i in range(repeats):
                                self.expect(kind, model, variant, batch, where, placed, reference,
                                            what="#%d" % (i + 1) if repeats > 1 else "")
                            if variant == "content":
                                hits = self.server.hits(self.metrics_url, "%s__%s__%s" % (model, variant, kind)) - before
                                want = 0 if where.startswith("cuda") else 1  # content keys hash host bytes only
                                self.row("PASS" if hits == want else "FAIL", kind, model, "content hits", batch, where,
                                         "%g cache hit(s) in 2 requests, %d expected" % (hits, want))
                        self.release()
        self.output_in_cuda_memory()
        self.still_healthy()

    def keyed(self, kind, model, batch, where, inputs, reference):
        keyed = KEYED[model]
        key = "chk-%s" % uuid.uuid4().hex
        placed = self.place(inputs, where, names=[keyed])
        self.expect(kind, model, "key", batch, where, placed, reference,
                    parameters={"input_cache_key." + keyed: key}, what="store")
        if model == "two_input":  # image optional: the next request names the key only
            rest = {n: v for n, v in inputs.items() if n != keyed}
            self.expect(kind, model, "key", batch, where + "->key", rest, reference,
                        parameters={"input_cache_key." + keyed: key}, what="by key")

    def output_in_cuda_memory(self):
        """Informational: Triton offers a backend a GPU buffer for an output in CUDA shared memory."""
        if self.cuda.devices == 0:
            return
        inputs = requests_for("conv_net", 1, seed=99)
        for kind in KINDS:
            status, reference = self.server.infer("conv_net__stock__%s" % kind, inputs, ["logits"])
            if status != 200:
                self.row("FAIL", kind, "conv_net", "stock", 1, "body", "HTTP %d: %s" % (status, reference))
                continue
            for variant in ("stock", "off"):
                size = 40
                ptr, handle = self.cuda.region(0, b"\0" * size)
                region = "chk-out-%s" % uuid.uuid4().hex[:8]
                self.cuda_regions.append((region, 0, ptr))
                self.server.post_json("/v2/cudasharedmemory/region/%s/register" % region,
                                      {"raw_handle": {"b64": base64.b64encode(handle).decode()},
                                       "device_id": 0, "byte_size": size})
                status, got = self.server.infer("conv_net__%s__%s" % (variant, kind), inputs,
                                                {"logits": (region, size)})
                if status == 200:
                    raw = self.cuda.read(0, ptr, size)
                    same = raw == reference["logits"][2]
                    detail = "written into the CUDA region%s" % ("" if same else ", but not stock's bytes")
                else:
                    detail = "HTTP %d: %s" % (status, str(got)[:140])
                self.row("INFO", kind, "conv_net", variant, 1, "output in cuda:0", detail)
            self.release()

    def still_healthy(self):
        """After all of it every model of ours still answers a plain request (no sticky CUDA error)."""
        for kind in KINDS:
            for model, (variants, _) in MODELS.items():
                inputs = requests_for(model, 1, seed=5)
                status, reference = self.server.infer("%s__stock__%s" % (model, kind), inputs, self.outputs(model))
                for variant in variants:
                    if variant == "graph" and kind == "cpu":
                        continue
                    if status == 200:
                        self.expect(kind, model, variant, 1, "body", inputs, reference, what="(after)")

    def table(self):
        lines = ["| result | kind | model | variant | batch | input in | detail |", "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append("| " + " | ".join(r) + " |")
        passed = sum(r[0] == "PASS" for r in self.rows)
        failed = sum(r[0] == "FAIL" for r in self.rows)
        info = sum(r[0] in ("INFO", "SKIP") for r in self.rows)
        lines.append("")
        lines.append("cuda-shm check: %d passed, %d failed (%d info); CUDA devices seen by the client: %d"
                     % (passed, failed, info, self.cuda.devices))
        text = "\n".join(lines)
        with open(os.path.join(self.outdir, "table.md"), "w") as f:
            f.write(text + "\n")
        print(text)
        return failed


def main(argv):
    if len(argv) == 4 and argv[1] == "repo":
        make_repo(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        check = Check(argv[2], argv[3])
        try:
            check.run()
        except Exception as e:  # still print what ran
            check.row("FAIL", "-", "-", "-", "-", "-", "the check stopped: %r" % e)
        finally:
            try:
                check.release()
            except Exception as e:
                print("release: %r" % e, file=sys.stderr)
        return 1 if check.table() else 0
    print(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
