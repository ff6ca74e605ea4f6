#!/usr/bin/python3
"""Generate the test model repository and reference data for the java_onnxruntime backend.

Usage:
    /usr/bin/python3 model_repository/make_models.py --repo model_repository --testdata build/testdata

Needs only onnx (>= 1.12) and numpy.  Deterministic (fixed seeds) and idempotent:
every output file is rewritten on each run.

For every model it writes
    <repo>/<model>/config.pbtxt        Triton model configuration (backend java_onnxruntime)
    <repo>/<model>/1/model.onnx        opset 17, IR version 8
and reference data
    <testdata>/<model>/request_bN.json  KServe v2 JSON inference request (N = 1, 2, 3)
    <testdata>/<model>/expected_bN.json expected outputs + tolerances
    <testdata>/seed/{conv_net,vit_patch,text_encoder}.json

The expected outputs are computed with an independent numpy implementation in float64
(conv, layer norm, attention, ...); the ONNX graphs are never executed here.
"""

import argparse
import base64
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, checker, helper, numpy_helper, shape_inference

OPSET = 17
IR_VERSION = 8
BATCH = "N"
MAX_BATCH = 8

# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------

ONNX_TYPE = {
    "FP32": TensorProto.FLOAT,
    "FP16": TensorProto.FLOAT16,
    "BF16": TensorProto.BFLOAT16,
    "FP64": TensorProto.DOUBLE,
    "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "UINT8": TensorProto.UINT8,
    "BOOL": TensorProto.BOOL,
}


def rng_for(name):
    # stable per-name seed (python's hash() is salted, so use a fixed digest)
    seed = sum((i + 1) * b for i, b in enumerate(name.encode())) % (2 ** 31)
    return np.random.default_rng(seed)


def uniform_q(rng, shape, lo=-1.0, hi=1.0, step=1.0 / 256):
    """Uniform values quantised to multiples of `step` (exact in FP32 and short in JSON)."""
    k = rng.integers(int(round(lo / step)), int(round(hi / step)) + 1, size=shape)
    return (k * step).astype(np.float32)


def image_q(rng, shape):
    """Image-like input in [-1,1]: per (sample, channel) centre in [-0.5,0.5] plus noise of
    amplitude 0.5, so that samples of a batch give clearly different pooled outputs."""
    n, c = shape[0], shape[1]
    centre = rng.integers(-128, 129, size=(n, c) + (1,) * (len(shape) - 2)) / 256.0
    noise = rng.integers(-128, 129, size=shape) / 256.0
    return (centre + noise).astype(np.float32)        # multiples of 1/256, exact in FP32


def weights(rng, shape, scale):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(arr), name)


def vi(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def save_model(graph, path):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="java_onnxruntime/make_models.py",
    )
    model.ir_version = IR_VERSION
    checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    return model


def bf16_bits(x):
    """float32 -> bfloat16 bit pattern (uint16), round to nearest even."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = ((u >> 16) & 1) + 0x7FFF
    return ((u + rounding) >> 16).astype(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def py_list(arr, dtype):
    """Flat JSON-friendly list (exact: float32 values are exact in float64)."""
    flat = np.asarray(arr).reshape(-1)
    if dtype == "BOOL":
        return [bool(v) for v in flat]
    if dtype in ("INT8", "INT16", "INT32", "INT64", "UINT8"):
        return [int(v) for v in flat]
    return [float(v) for v in flat]


def req_tensor(name, dtype, arr):
    t = {"name": name, "shape": [int(d) for d in arr.shape], "datatype": dtype}
    if dtype == "FP16":
        t["raw_data_b64"] = base64.b64encode(
            np.ascontiguousarray(arr, dtype="<f2").tobytes()).decode("ascii")
    elif dtype == "BF16":
        # arr holds the bfloat16 bit patterns as uint16
        t["raw_data_b64"] = base64.b64encode(
            np.ascontiguousarray(arr, dtype="<u2").tobytes()).decode("ascii")
    else:
        t["data"] = py_list(arr, dtype)
    return t


def out_tensor(name, dtype, arr):
    return {"name": name, "datatype": dtype,
            "shape": [int(d) for d in arr.shape], "data": py_list(arr, dtype)}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


# --------------------------------------------------------------------------------------
# config.pbtxt
# --------------------------------------------------------------------------------------

def tensor_pbtxt(t):
    lines = ["  {",
             '    name: "%s"' % t["name"],
             "    data_type: TYPE_%s" % t["type"],
             "    dims: [ %s ]" % ", ".join(str(d) for d in t["dims"])]
    if "optional" in t:
        lines.append("    optional: %s" % ("true" if t["optional"] else "false"))
    lines.append("  }")
    return "\n".join(lines)


def write_config(repo, name, comment, max_batch, inputs, outputs, parameters=None):
    text = "".join("# %s\n" % line if line else "#\n" for line in comment.strip("\n").split("\n"))
    text += 'name: "%s"\n' % name
    text += 'backend: "java_onnxruntime"\n'
    text += "max_batch_size: %d\n" % max_batch
    text += "input [\n" + ",\n".join(tensor_pbtxt(t) for t in inputs) + "\n]\n"
    text += "output [\n" + ",\n".join(tensor_pbtxt(t) for t in outputs) + "\n]\n"
    if max_batch > 0:  # Triton's dynamic batcher needs a batch dimension
        text += "dynamic_batching { max_queue_delay_microseconds: 2000 }\n"
    text += "instance_group [ { kind: KIND_CPU count: 2 } ]\n"
    for k, v in (parameters or {}).items():
        text += 'parameters { key: "%s" value: { string_value: "%s" } }\n' % (k, v)
    path = os.path.join(repo, name, "config.pbtxt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------------------
# numpy reference ops (float64)
# --------------------------------------------------------------------------------------

def np_conv2d(x, w, b, stride, pad):
    """NCHW conv via strided windows + einsum."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    oc, ic, kh, kw = w.shape
    assert ic == c
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    s = xp.strides
    win = np.lib.stride_tricks.as_strided(
        xp, shape=(n, c, oh, ow, kh, kw),
        strides=(s[0], s[1], s[2] * stride, s[3] * stride, s[2], s[3]), writeable=False)
    y = np.einsum("ncijkl,ockl->noij", win, w, optimize=True)
    return y + np.asarray(b, np.float64)[None, :, None, None]


def np_conv2d_loops(x, w, b, stride, pad):
    """Second, naive implementation (only used on small crops for cross-checking)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, oc, oh, ow))
    for bi in range(n):
        for o in range(oc):
            for i in range(oh):
                for j in range(ow):
                    acc = float(b[o])
                    for ci in range(c):
                        for di in range(kh):
                            for dj in range(kw):
                                r = i * stride + di - pad
                                q = j * stride + dj - pad
                                if 0 <= r < h and 0 <= q < wd:
                                    acc += x[bi, ci, r, q] * w[o, ci, di, dj]
                    y[bi, o, i, j] = acc
    return y


def np_layernorm(x, g, b, eps):
    x = np.asarray(x, np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * np.asarray(g, np.float64) + np.asarray(b, np.float64)


def np_layernorm_alt(x, g, b, eps):
    x = np.asarray(x, np.float64)
    d = x.shape[-1]
    s1 = x.sum(-1, keepdims=True)
    s2 = (x * x).sum(-1, keepdims=True)
    var = s2 / d - (s1 / d) ** 2
    return (x - s1 / d) * (1.0 / np.sqrt(var + eps)) * g + b


def np_softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def check_close(name, a, b, rtol=1e-7, atol=1e-7):
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        raise SystemExit("self-check %s FAILED: max abs diff %g" % (name, np.max(np.abs(a - b))))
    print("  self-check %-34s ok (max abs diff %.2e)" % (name, float(np.max(np.abs(a - b)))))


def check_io(model, inputs, outputs, max_batch):
    """ONNX graph I/O (after shape inference) must agree with the config."""
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    g = inferred.graph

    def dims_of(v):
        out = []
        for d in v.type.tensor_type.shape.dim:
            out.append(d.dim_value if d.HasField("dim_value") else d.dim_param)
        return out

    rev = {v: k for k, v in ONNX_TYPE.items()}
    for cfg_list, graph_list, kind in ((inputs, g.input, "input"), (outputs, g.output, "output")):
        gm = {v.name: v for v in graph_list}
        assert set(gm) == {t["name"] for t in cfg_list}, (kind, set(gm))
        for t in cfg_list:
            v = gm[t["name"]]
            assert rev[v.type.tensor_type.elem_type] == t["type"], (t["name"], "dtype")
            dims = dims_of(v)
            if max_batch > 0:
                assert dims[0] == BATCH, (t["name"], dims)
                dims = dims[1:]
            assert len(dims) == len(t["dims"]), (t["name"], dims, t["dims"])
            for gd, cd in zip(dims, t["dims"]):
                if cd == -1:
                    assert not isinstance(gd, int) or gd == 0, (t["name"], dims)
                else:
                    assert gd == cd, (t["name"], dims, t["dims"])


# --------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------

TOL_FLOAT = {"rtol": 1e-4, "atol": 1e-5}
TOL_EXACT = {"rtol": 0.0, "atol": 0.0}


def emit_cases(testdata, name, make_inputs, reference, in_specs, out_specs, tol, batches=(1, 2, 3)):
    rng = rng_for(name + "/data")
    for b in batches:
        ins = make_inputs(rng, b)
        outs = reference(ins)
        write_json(os.path.join(testdata, name, "request_b%d.json" % b),
                   {"inputs": [req_tensor(t["name"], t["type"], ins[t["name"]]) for t in in_specs]})
        write_json(os.path.join(testdata, name, "expected_b%d.json" % b),
                   dict({"outputs": [out_tensor(t["name"], t["type"], outs[t["name"]]) for t in out_specs]},
                        **tol))


# ---- 1. conv_net ---------------------------------------------------------------------

def conv_net(repo, testdata):
    name = "conv_net"
    r = rng_for(name)
    w1 = weights(r, (8, 3, 3, 3), 1 / math.sqrt(27)); b1 = weights(r, (8,), 0.1)
    w2 = weights(r, (16, 8, 3, 3), 1 / math.sqrt(72)); b2 = weights(r, (16,), 0.1)
    w3 = weights(r, (10, 16), 1 / math.sqrt(16)); b3 = weights(r, (10,), 0.1)

    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, name,
        [vi("input", TensorProto.FLOAT, [BATCH, 3, 224, 224])],
        [vi("logits", TensorProto.FLOAT, [BATCH, 10])],
        [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2), init("w3", w3), init("b3", b3)])
    model = save_model(graph, os.path.join(repo, name, "1", "model.onnx"))

    ins_cfg = [{"name": "input", "type": "FP32", "dims": [3, 224, 224]}]
    outs_cfg = [{"name": "logits", "type": "FP32", "dims": [10]}]
    write_config(repo, name, """
conv_net: small image classifier (stand-in for a ResNet-style conv net).
input [N,3,224,224] FP32 -> Conv 3->8 k3 s2 p1 + Relu -> Conv 8->16 k3 s2 p1 + Relu
-> GlobalAveragePool -> Flatten -> Gemm 16->10 -> logits [N,10] FP32.
Generated by model_repository/make_models.py (random fixed-seed weights).""",
                 MAX_BATCH, ins_cfg, outs_cfg)
    check_io(model, ins_cfg, outs_cfg, MAX_BATCH)

    def ref(ins):
        x = ins["input"]
        h = np.maximum(np_conv2d(x, w1, b1, 2, 1), 0)
        h = np.maximum(np_conv2d(h, w2, b2, 2, 1), 0)
        g = h.mean(axis=(2, 3))
        return {"logits": g @ w3.astype(np.float64).T + b3}

    # cross-check the einsum conv against naive loops on a small crop
    xc = uniform_q(rng_for("conv_net/check"), (1, 3, 9, 11))
    check_close("conv einsum vs loops (k3 s2 p1)", np_conv2d(xc, w1, b1, 2, 1), np_conv2d_loops(xc, w1, b1, 2, 1))
    hc = np.maximum(np_conv2d(xc, w1, b1, 2, 1), 0)
    check_close("conv einsum vs loops (8->16)", np_conv2d(hc, w2, b2, 2, 1), np_conv2d_loops(hc, w2, b2, 2, 1))

    emit_cases(testdata, name, lambda rng, b: {"input": image_q(rng, (b, 3, 224, 224))},
               ref, ins_cfg, outs_cfg, TOL_FLOAT)
    return ref


# ---- 2. text_encoder -----------------------------------------------------------------

def text_encoder(repo, testdata):
    name = "text_encoder"
    V, S, D = 1000, 128, 32
    eps = 1e-5
    r = rng_for(name)
    emb = weights(r, (V, D), 1.0)
    pos = weights(r, (S, D), 0.5)
    ln_g = (1.0 + weights(r, (D,), 0.1)).astype(np.float32)
    ln_b = weights(r, (D,), 0.1)
    wq = weights(r, (D, D), 1 / math.sqrt(D))
    wk = weights(r, (D, D), 1 / math.sqrt(D))
    wv = weights(r, (D, D), 1 / math.sqrt(D))
    wo = weights(r, (D, D), 1 / math.sqrt(D))
    scale = np.array(1.0 / math.sqrt(D), np.float32)

    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["tok"], axis=0),     # [N,S,D]
        helper.make_node("Add", ["tok", "pos"], ["x"]),                       # + pos [S,D]
        helper.make_node("LayerNormalization", ["x", "ln_g", "ln_b"], ["h"], axis=-1, epsilon=eps),
        helper.make_node("MatMul", ["h", "wq"], ["q"]),
        helper.make_node("MatMul", ["h", "wk"], ["k"]),
        helper.make_node("MatMul", ["h", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),          # [N,D,S]
        helper.make_node("MatMul", ["q", "kt"], ["scores_raw"]),               # [N,S,S]
        helper.make_node("Mul", ["scores_raw", "scale"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["ctx"]),                   # [N,S,D]
        helper.make_node("MatMul", ["ctx", "wo"], ["attn"]),
        helper.make_node("Add", ["h", "attn"], ["res"]),
        helper.make_node("ReduceMean", ["res"], ["pooled"], axes=[1], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, name,
        [vi("input_ids", TensorProto.INT64, [BATCH, S])],
        [vi("pooled", TensorProto.FLOAT, [BATCH, D])],
        [init("emb", emb), init("pos", pos), init("ln_g", ln_g), init("ln_b", ln_b),
         init("wq", wq), init("wk", wk), init("wv", wv), init("wo", wo), init("scale", scale)])
    model = save_model(graph, os.path.join(repo, name, "1", "model.onnx"))

    ins_cfg = [{"name": "input_ids", "type": "INT64", "dims": [S]}]
    outs_cfg = [{"name": "pooled", "type": "FP32", "dims": [D]}]
    write_config(repo, name, """
text_encoder: tiny transformer-encoder-like model over token ids (vocab 1000, dim 32).
input_ids [N,128] INT64 (values in [0,1000)) -> Gather token embedding + position embedding
-> LayerNormalization -> single-head self-attention (Q/K/V MatMul, scale 1/sqrt(32), Softmax,
output projection) + residual -> ReduceMean over the sequence -> pooled [N,32] FP32.
Out-of-range ids make Gather fail at run time.
Generated by model_repository/make_models.py (random fixed-seed weights).""",
                 MAX_BATCH, ins_cfg, outs_cfg)
    check_io(model, ins_cfg, outs_cfg, MAX_BATCH)

    E = emb.astype(np.float64); P = pos.astype(np.float64)
    Wq, Wk, Wv, Wo = (w.astype(np.float64) for w in (wq, wk, wv, wo))
    sc = float(scale)

    def ref(ins):
        ids = ins["input_ids"]
        x = E[ids] + P
        h = np_layernorm(x, ln_g, ln_b, eps)
        q, k, v = h @ Wq, h @ Wk, h @ Wv
        p = np_softmax(np.einsum("nsd,ntd->nst", q, k) * sc, axis=-1)
        res = h + (p @ v) @ Wo
        return {"pooled": res.mean(axis=1)}

    def ref_alt(ins):
        # independent formulation: per-sample loops, alternative layernorm/softmax
        ids = ins["input_ids"]
        outs = []
        for row in ids:
            x = np.stack([E[t] for t in row]) + P
            h = np_layernorm_alt(x, ln_g.astype(np.float64), ln_b.astype(np.float64), eps)
            a = (h @ Wq) @ (h @ Wk).T / math.sqrt(D)
            a = np.exp(a - a.max(axis=1)[:, None])
            a = a / a.sum(axis=1)[:, None]
            outs.append((h + a @ (h @ Wv) @ Wo).sum(axis=0) / S)
        return np.stack(outs)

    probe = {"input_ids": rng_for("text/check").integers(0, V, size=(2, S)).astype(np.int64)}
    check_close("text_encoder ref vs alt", ref(probe)["pooled"], ref_alt(probe))

    def make(rng, b):
        ids = rng.integers(0, V, size=(b, S)).astype(np.int64)
        ids[0, 0] = 0
        ids[-1, -1] = V - 1          # exercise both ends of the vocab
        return {"input_ids": ids}

    emit_cases(testdata, name, make, ref, ins_cfg, outs_cfg, {"rtol": 1e-4, "atol": 2e-5})
    return ref


# ---- 3. vit_patch --------------------------------------------------------------------

def vit_patch(repo, testdata):
    name = "vit_patch"
    D, PS, G = 32, 16, 14
    eps = 1e-5
    r = rng_for(name)
    wp = weights(r, (D, 3, PS, PS), 1 / math.sqrt(3 * PS * PS))
    bp = weights(r, (D,), 0.1)
    pos = weights(r, (G * G, D), 0.5)
    ln_g = (1.0 + weights(r, (D,), 0.1)).astype(np.float32)
    ln_b = weights(r, (D,), 0.1)

    nodes = [
        helper.make_node("Conv", ["input", "wp", "bp"], ["patches"], kernel_shape=[PS, PS],
                         strides=[PS, PS]),                                         # [N,32,14,14]
        helper.make_node("Reshape", ["patches", "shape_nd_l"], ["flat"]),            # [N,32,196]
        helper.make_node("Transpose", ["flat"], ["tok"], perm=[0, 2, 1]),            # [N,196,32]
        helper.make_node("Add", ["tok", "pos"], ["x"]),
        helper.make_node("LayerNormalization", ["x", "ln_g", "ln_b"], ["tokens"], axis=-1, epsilon=eps),
    ]
    graph = helper.make_graph(
        nodes, name,
        [vi("input", TensorProto.FLOAT, [BATCH, 3, 224, 224])],
        [vi("tokens", TensorProto.FLOAT, [BATCH, G * G, D])],
        [init("wp", wp), init("bp", bp), init("pos", pos), init("ln_g", ln_g), init("ln_b", ln_b),
         init("shape_nd_l", np.array([0, D, G * G], np.int64))])   # 0 = copy batch dim
    model = save_model(graph, os.path.join(repo, name, "1", "model.onnx"))

    ins_cfg = [{"name": "input", "type": "FP32", "dims": [3, 224, 224]}]
    outs_cfg = [{"name": "tokens", "type": "FP32", "dims": [G * G, D]}]
    write_config(repo, name, """
vit_patch: ViT-style patch embedding.
input [N,3,224,224] FP32 -> Conv 3->32 k16 s16 -> Reshape [N,32,196] -> Transpose [N,196,32]
-> + position embedding [196,32] -> LayerNormalization -> tokens [N,196,32] FP32.
Generated by model_repository/make_models.py (random fixed-seed weights).""",
                 MAX_BATCH, ins_cfg, outs_cfg)
    check_io(model, ins_cfg, outs_cfg, MAX_BATCH)

    def ref(ins):
        x = np.asarray(ins["input"], np.float64)
        n = x.shape[0]
        # patchify by reshaping: [n,3,14,16,14,16] -> [n,14,14,3,16,16]
        pt = x.reshape(n, 3, G, PS, G, PS).transpose(0, 2, 4, 1, 3, 5).reshape(n, G * G, 3 * PS * PS)
        t = pt @ wp.astype(np.float64).reshape(D, -1).T + bp
        return {"tokens": np_layernorm(t + pos, ln_g, ln_b, eps)}

    def ref_alt(ins):
        c = np_conv2d(ins["input"], wp, bp, PS, 0)                 # generic conv path
        t = c.reshape(c.shape[0], D, G * G).transpose(0, 2, 1)
        return np_layernorm_alt(t + pos, ln_g.astype(np.float64), ln_b.astype(np.float64), eps)

    probe = {"input": uniform_q(rng_for("vit/check"), (2, 3, 224, 224))}
    check_close("vit patchify vs conv", ref(probe)["tokens"], ref_alt(probe))
    xc = probe["input"][:1, :, :32, :48]
    check_close("conv einsum vs loops (k16 s16)",
                np_conv2d(xc, wp[:4], bp[:4], PS, 0), np_conv2d_loops(xc, wp[:4], bp[:4], PS, 0))

    emit_cases(testdata, name, lambda rng, b: {"input": image_q(rng, (b, 3, 224, 224))},
               ref, ins_cfg, outs_cfg, TOL_FLOAT)
    return ref


# ---- 4. two_input --------------------------------------------------------------------

def two_input(repo, testdata):
    name = "two_input"
    r = rng_for(name)
    wc = weights(r, (4, 3, 1, 1), 1 / math.sqrt(3))
    bc = weights(r, (4,), 0.1)

    nodes = [
        helper.make_node("Conv", ["image", "wc", "bc"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["c"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1),
        helper.make_node("Add", ["flat", "bias"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes, name,
        [vi("image", TensorProto.FLOAT, [BATCH, 3, 224, 224]), vi("bias", TensorProto.FLOAT, [BATCH, 4])],
        [vi("out", TensorProto.FLOAT, [BATCH, 4])],
        [init("wc", wc), init("bc", bc)])
    model = save_model(graph, os.path.join(repo, name, "1", "model.onnx"))

    ins_cfg = [{"name": "image", "type": "FP32", "dims": [3, 224, 224], "optional": True},
               {"name": "bias", "type": "FP32", "dims": [4], "optional": False}]
    outs_cfg = [{"name": "out", "type": "FP32", "dims": [4]}]
    write_config(repo, name, """
two_input: one large and one small input.
out [N,4] = Flatten(GlobalAveragePool(Conv 3->4 k1 (image))) + bias.
image [N,3,224,224] FP32 is marked optional: a client may omit it and name a cached key
instead (the ONNX model itself always needs it). bias [N,4] FP32 is required.
Generated by model_repository/make_models.py (random fixed-seed weights).""",
                 MAX_BATCH, ins_cfg, outs_cfg)
    check_io(model, ins_cfg, outs_cfg, MAX_BATCH)

    def ref(ins):
        c = np_conv2d(ins["image"], wc, bc, 1, 0)
        return {"out": c.mean(axis=(2, 3)) + np.asarray(ins["bias"], np.float64)}

    def ref_alt(ins):
        # 1x1 conv and mean commute: mean over pixels first, then the channel mix
        m = np.asarray(ins["image"], np.float64).mean(axis=(2, 3))
        return m @ wc.reshape(4, 3).T.astype(np.float64) + bc + ins["bias"]

    probe = {"image": uniform_q(rng_for("two/check"), (2, 3, 224, 224)),
             "bias": uniform_q(rng_for("two/check2"), (2, 4))}
    check_close("two_input conv vs mean-first", ref(probe)["out"], ref_alt(probe))

    emit_cases(testdata, name,
               lambda rng, b: {"image": image_q(rng, (b, 3, 224, 224)), "bias": uniform_q(rng, (b, 4))},
               ref, ins_cfg, outs_cfg, TOL_FLOAT)


# ---- 5b. chain_encoder -> chain_head ----------------------------------------------------

def chain(repo, testdata):
    """Two models of one cache group: the encoder's features can stay in the backend's cache
    (output_cache_key.features) for the head to read (input_cache_key.features)."""
    r = rng_for("chain")
    we = weights(r, (8, 3, 3, 3), 1 / math.sqrt(27)); be = weights(r, (8,), 0.1)
    wh = weights(r, (3, 8), 1 / math.sqrt(8)); bh = weights(r, (3,), 0.1)
    group = {"input_cache_group": "chain"}

    enc = helper.make_graph(
        [helper.make_node("Conv", ["image", "we", "be"], ["c"], kernel_shape=[3, 3], strides=[2, 2],
                          pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["features"]),
         helper.make_node("GlobalAveragePool", ["features"], ["gap"]),
         helper.make_node("Flatten", ["gap"], ["score"], axis=1)],
        "chain_encoder",
        [vi("image", TensorProto.FLOAT, [BATCH, 3, 32, 32])],
        [vi("features", TensorProto.FLOAT, [BATCH, 8, 16, 16]), vi("score", TensorProto.FLOAT, [BATCH, 8])],
        [init("we", we), init("be", be)])
    enc_model = save_model(enc, os.path.join(repo, "chain_encoder", "1", "model.onnx"))
    enc_in = [{"name": "image", "type": "FP32", "dims": [3, 32, 32]}]
    enc_out = [{"name": "features", "type": "FP32", "dims": [8, 16, 16]},
               {"name": "score", "type": "FP32", "dims": [8]}]
    write_config(repo, "chain_encoder", """
chain_encoder: the first model of a two-model pipeline (cache group "chain").
image [N,3,32,32] FP32 -> Conv 3->8 k3 s2 p1 + Relu -> features [N,8,16,16] FP32;
score [N,8] = Flatten(GlobalAveragePool(features)). A client may keep features in the
backend's cache with the request parameter output_cache_key.features and ask for score only.
Generated by model_repository/make_models.py (random fixed-seed weights).""",
                 MAX_BATCH, enc_in, enc_out, group)
    check_io(enc_model, enc_in, enc_out, MAX_BATCH)

    head = helper.make_graph(
        [helper.make_node("GlobalMaxPool", ["features"], ["gmp"]),
         helper.make_node("Flatten", ["gmp"], ["flat"], axis=1),
         helper.make_node("Gemm", ["flat", "wh", "bh"], ["logits"], transB=1)],
        "chain_head",
        [vi("features", TensorProto.FLOAT, [BATCH, 8, 16, 16])],
        [vi("logits", TensorProto.FLOAT, [BATCH, 3])],
        [init("wh", wh), init("bh", bh)])
    head_model = save_model(head, os.path.join(repo, "chain_head", "1", "model.onnx"))
    head_in = [{"name": "features", "type": "FP32", "dims": [8, 16, 16], "optional": True}]
    head_out = [{"name": "logits", "type": "FP32", "dims": [3]}]
    write_config(repo, "chain_head", """
chain_head: the second model of the pipeline (cache group "chain").
features [N,8,16,16] FP32 -> GlobalMaxPool -> Flatten -> Gemm 8->3 -> logits [N,3] FP32.
features is optional: a client names the encoder's kept output with input_cache_key.features.
Generated by model_repository/make_models.py (random fixed-seed weights).""",
                 MAX_BATCH, head_in, head_out, group)
    check_io(head_model, head_in, head_out, MAX_BATCH)

    def ref_enc(ins):
        f = np.maximum(np_conv2d(ins["image"], we, be, 2, 1), 0)
        return {"features": f, "score": f.mean(axis=(2, 3))}

    def ref_head(ins):
        return {"logits": np.asarray(ins["features"], np.float64).max(axis=(2, 3)) @ wh.astype(np.float64).T + bh}

    rng = rng_for("chain/data")
    images = {b: image_q(rng, (b, 3, 32, 32)) for b in (1, 2, 3)}
    emit_cases(testdata, "chain_encoder", lambda _, b: {"image": images[b]}, ref_enc, enc_in, enc_out,
               TOL_FLOAT)
    # The pipeline's expected logits: the head applied to the encoder's reference features.
    emit_cases(testdata, "chain_head", lambda _, b: {"features": ref_enc({"image": images[b]})["features"]},
               ref_head, head_in, head_out, TOL_FLOAT)


# ---- 5. dtypes -----------------------------------------------------------------------

DTYPES = ["FP32", "FP16", "BF16", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "BOOL"]


def dtypes(repo, testdata):
    name = "dtypes"
    nodes, gin, gout, ins_cfg, outs_cfg = [], [], [], [], []
    for dt in DTYPES:
        s = dt.lower()
        nodes.append(helper.make_node("Identity", ["in_" + s], ["out_" + s]))
        gin.append(vi("in_" + s, ONNX_TYPE[dt], [BATCH, 4]))
        gout.append(vi("out_" + s, ONNX_TYPE[dt], [BATCH, 4]))
        ins_cfg.append({"name": "in_" + s, "type": dt, "dims": [4]})
        outs_cfg.append({"name": "out_" + s, "type": dt, "dims": [4]})
    graph = helper.make_graph(nodes, name, gin, gout)
    model = save_model(graph, os.path.join(repo, name, "1", "model.onnx"))
    write_config(repo, name, """
dtypes: ten independent Identity ops, one per data type, each [N,4]:
in_fp32->out_fp32, in_fp16->out_fp16, in_bf16->out_bf16, in_fp64->out_fp64, in_int8->out_int8,
in_int16->out_int16, in_int32->out_int32, in_int64->out_int64, in_uint8->out_uint8,
in_bool->out_bool.  Outputs must equal inputs bit for bit.
Generated by model_repository/make_models.py.""",
                 MAX_BATCH, ins_cfg, outs_cfg)
    check_io(model, ins_cfg, outs_cfg, MAX_BATCH)

    rng = rng_for(name + "/data")
    for b in (1, 2, 3):
        shp = (b, 4)
        f32 = uniform_q(rng, shp, -4, 4, 1.0 / 64)
        f16 = (rng.standard_normal(shp) * 8).astype(np.float16)
        f16.flat[-1] = np.float16(65504.0) if b == 3 else f16.flat[-1]
        bf_bits = bf16_bits(rng.standard_normal(shp).astype(np.float32) * 100)
        f64 = rng.standard_normal(shp) * 1e3                 # not representable in fp32
        i8 = rng.integers(-128, 128, shp).astype(np.int8); i8.flat[0] = -128; i8.flat[-1] = 127
        i16 = rng.integers(-32768, 32768, shp).astype(np.int16); i16.flat[0] = -32768
        i32 = rng.integers(-2 ** 31, 2 ** 31, shp, dtype=np.int64).astype(np.int32)
        i32.flat[-1] = 2 ** 31 - 1
        i64 = rng.integers(-2 ** 40, 2 ** 40, shp, dtype=np.int64)   # beyond int32, within 2^53
        i64.flat[0] = -(2 ** 53) + 1
        u8 = rng.integers(0, 256, shp).astype(np.uint8); u8.flat[0] = 255; u8.flat[-1] = 0
        bl = rng.integers(0, 2, shp).astype(bool); bl.flat[0] = True; bl.flat[-1] = False
        data = {"FP32": f32, "FP16": f16, "BF16": bf_bits, "FP64": f64, "INT8": i8, "INT16": i16,
                "INT32": i32, "INT64": i64, "UINT8": u8, "BOOL": bl}
        req = {"inputs": [req_tensor("in_" + dt.lower(), dt, data[dt]) for dt in DTYPES]}
        outs = []
        for dt in DTYPES:
            v = data[dt]
            if dt == "BF16":
                v = bf16_to_f32(v)                          # decoded float values
            outs.append(out_tensor("out_" + dt.lower(), dt, v))
        write_json(os.path.join(testdata, name, "request_b%d.json" % b), {"inputs": req["inputs"]})
        write_json(os.path.join(testdata, name, "expected_b%d.json" % b), dict({"outputs": outs}, **TOL_EXACT))

    # self-check: raw bytes decode back to the expected values
    chk = bf16_bits(np.array([1.0, -2.5, 3.14159, 1e-3, 1.00390625, 1.01171875], np.float32))
    # 1e-3 = 0x3A83126F -> 0x3A83; 1+2^-8 is a tie -> even (1.0); 1+3*2^-8 is a tie -> 1+4*2^-8
    check_close("bf16 round trip", bf16_to_f32(chk),
                np.array([1.0, -2.5, 3.140625, 2.0 ** -10 * (1 + 3 / 128), 1.0, 1.015625]),
                rtol=0, atol=0)


# ---- 6. fails_at_runtime -------------------------------------------------------------

def fails_at_runtime(repo, testdata):
    name = "fails_at_runtime"
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"])]
    graph = helper.make_graph(
        nodes, name,
        [vi("x", TensorProto.FLOAT, [4]), vi("shape", TensorProto.INT64, [2])],
        [vi("y", TensorProto.FLOAT, ["y0", "y1"])])
    model = save_model(graph, os.path.join(repo, name, "1", "model.onnx"))

    ins_cfg = [{"name": "x", "type": "FP32", "dims": [4]},
               {"name": "shape", "type": "INT64", "dims": [2]}]
    outs_cfg = [{"name": "y", "type": "FP32", "dims": [-1, -1]}]
    write_config(repo, name, """
fails_at_runtime: y = Reshape(x, shape); no batching (max_batch_size 0, so the
request shapes are exactly x [4] and shape [2]; y has rank 2 and shape = the requested shape).
The model loads fine; whether Run succeeds depends on the data of `shape`:
  good: shape = [2,2] (or [1,4], [4,1], [-1,2], ...) -> y = x reshaped.
  bad:  shape = [3,3] (9 != 4 elements), or [0,3], [-1,3], [-1,-1] -> ONNX Runtime
        fails inside OrtSession.run ("The input tensor cannot be reshaped to the
        requested shape"); the backend must turn that into a request error.
Generated by model_repository/make_models.py.""",
                 0, ins_cfg, outs_cfg)
    check_io(model, ins_cfg, outs_cfg, 0)

    x = np.array([1.5, -2.0, 3.25, 0.125], np.float32)
    write_json(os.path.join(testdata, name, "request_good.json"),
               {"inputs": [req_tensor("x", "FP32", x),
                           req_tensor("shape", "INT64", np.array([2, 2], np.int64))]})
    write_json(os.path.join(testdata, name, "expected_good.json"),
               dict({"outputs": [out_tensor("y", "FP32", x.reshape(2, 2))]}, **TOL_EXACT))
    write_json(os.path.join(testdata, name, "request_bad.json"),
               {"inputs": [req_tensor("x", "FP32", x),
                           req_tensor("shape", "INT64", np.array([3, 3], np.int64))]})


# ---- seed requests -------------------------------------------------------------------

def seed(testdata):
    rng = rng_for("seed")
    img = image_q(rng, (1, 3, 224, 224))
    ids = rng.integers(0, 1000, size=(1, 128)).astype(np.int64)
    for m in ("conv_net", "vit_patch"):
        write_json(os.path.join(testdata, "seed", m + ".json"),
                   {"inputs": [req_tensor("input", "FP32", img)]})
    write_json(os.path.join(testdata, "seed", "text_encoder.json"),
               {"inputs": [req_tensor("input_ids", "INT64", ids)]})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, help="model repository directory to (re)write")
    ap.add_argument("--testdata", required=True, help="directory for reference requests/expected outputs")
    a = ap.parse_args(argv)
    np.seterr(all="raise", under="ignore")
    for fn in (conv_net, text_encoder, vit_patch, two_input, chain, dtypes, fails_at_runtime):
        print("%s:" % fn.__name__)
        fn(a.repo, a.testdata)
    seed(a.testdata)
    print("wrote models to %s and reference data to %s" % (a.repo, a.testdata))
    return 0


if __name__ == "__main__":
    sys.exit(main())
