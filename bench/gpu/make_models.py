"""Makes the GPU benchmark's models, request files and model repositories, with no download.

  python3 make_models.py WORK [--kind KIND_GPU|KIND_CPU] [--examples DIR] [--no-torch]

WORK/models/<name>/1/model.onnx: ViT-base, BERT-base (seq 128, INT64 input_ids) and ResNet-50
from random-initialised configs (transformers, torchvision), a tiny conv model (Conv 3->8,
Relu, GlobalAveragePool, Flatten; height and width dynamic), and the two halves of a chain:
vit_encoder (ViT-base: input [B,3,224,224] -> features = last_hidden_state [B,197,768] and
pooled = pooler_output [B,768]) and vit_head (features [B,197,768] -> logits [B,1000], a Linear on
token 0), all exported to ONNX opset 17 with a dynamic batch dimension (max_batch_size 8).
--examples adds the repo's example models (made by model_repository/make_models.py).
WORK/requests/*.json: the request files (KServe v2 JSON with raw_data_b64). WORK/repo-<mode>/:
one model repository per mode (config.pbtxt with the mode's parameters, model.onnx linked); the
chain models only in the key modes, in one cache group (input_cache_group "vitchain").
"""
import argparse
import base64
import json
import os
import re
import shutil
import sys

import numpy as np

# cuda_graph written out everywhere (it is on by default on KIND_GPU): the eager modes say "off".
MODES = {
    "ort": {"input_staging": "ort", "input_cache": "off", "cuda_graph": "off"},
    "pinned": {"input_cache": "off", "cuda_graph": "off"},
    "content": {"input_cache": "content", "cuda_graph": "off"},
    "key": {"input_cache": "key", "cuda_graph": "off"},
    "auto": {"input_cache": "auto", "cuda_graph": "off"},
    # content with one ORT intra-op thread per session (ORT's default: one per core, per session)
    "content_t1": {"input_cache": "content", "intra_op_thread_count": "1", "cuda_graph": "off"},
    # key mode with the CUDA graph switch explicit: off (ORT runs the model eagerly, as "key") or
    # on (each GPU instance captures the model per batch size and replays it; refused on KIND_CPU)
    "keyeager": {"input_cache": "key", "cuda_graph": "off"},
    "keygraph": {"input_cache": "key", "cuda_graph": "on", "cuda_graph_batch_sizes": "1,8"},
}
KEY_MODES = ("key", "keyeager", "keygraph")  # first request stores the data under a key; inputs optional
# model -> (input name, dtype, dims without batch, output name); filled from the ONNX files.
TORCH_MODELS = ["vit", "bert", "resnet50", "conv_tiny", "vit_encoder", "vit_head"]
# The chain: in the key modes only, both models in one cache group, so the head can read the
# encoder's `features` by the key the encoder stored them under (output_cache_key.features).
CHAIN_MODELS = ["vit_encoder", "vit_head"]
MODEL_MODES = {m: KEY_MODES for m in CHAIN_MODELS}
MODEL_PARAMS = {m: {"input_cache_group": "vitchain"} for m in CHAIN_MODELS}
# Dimensions (without batch) the exporter may leave symbolic.
DIMS = {("bert", "output"): [128, 768], ("vit_encoder", "features"): [197, 768],
        ("vit_encoder", "pooled"): [768], ("vit_head", "features"): [197, 768], ("vit_head", "logits"): [1000]}
FEATURES_SHAPE = (1, 197, 768)  # 605,184 bytes of FP32
EXAMPLES = ["conv_net", "vit_patch", "text_encoder", "two_input"]
# Inputs each model keys by name in `key` mode; the others stay `off` there.
KEYED = {"two_input": ["image"]}


def export_torch(models_dir, names):
    """Exports the torch models in NAMES (random init, seed 0 each, so a re-export is the same)."""
    import torch
    import onnx

    def export(model, example, name, in_name, out_names, dyn):
        path = os.path.join(models_dir, name, "1", "model.onnx")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.eval()
        out_names = [out_names] if isinstance(out_names, str) else out_names
        axes = {in_name: dyn}
        axes.update({o: {0: "batch"} for o in out_names})
        kw = dict(input_names=[in_name], output_names=out_names, opset_version=17, dynamic_axes=axes)
        with torch.no_grad():
            try:
                torch.onnx.export(model, (example,), path, dynamo=False, **kw)
            except Exception as e:  # the TorchScript exporter may be gone in newer torch
                print(f"{name}: TorchScript exporter failed ({e}); trying dynamo", flush=True)
                torch.onnx.export(model, (example,), path, dynamo=True, **kw)
        m = onnx.load(path)  # pulls in external data, if any, and saves one self-contained file
        for f in os.listdir(os.path.dirname(path)):
            if f != "model.onnx":
                os.remove(os.path.join(os.path.dirname(path), f))
        onnx.save(m, path)
        print(f"{name}: {os.path.getsize(path)} bytes, opset {m.opset_import[0].version}", flush=True)

    class Logits(torch.nn.Module):
        def __init__(self, m, key):
            super().__init__()
            self.m, self.key = m, key

        def forward(self, x):
            out = self.m(x)
            return out[self.key] if isinstance(out, dict) or hasattr(out, self.key) and not torch.is_tensor(out) else out

    class Encoder(torch.nn.Module):  # ViT-base: (last_hidden_state, pooler_output)
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            out = self.m(pixel_values=x)
            return out.last_hidden_state, out.pooler_output

    class Head(torch.nn.Module):  # logits from the class token
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(768, 1000)

        def forward(self, features):
            return self.fc(features[:, 0])

    import transformers
    import torchvision

    for name in names:
        torch.manual_seed(0)
        if name == "vit":
            vit = transformers.ViTForImageClassification(transformers.ViTConfig(attn_implementation="eager"))
            export(Logits(vit, "logits"), torch.randn(1, 3, 224, 224), "vit", "input", "output", {0: "batch"})
        elif name == "bert":
            bert = transformers.BertModel(transformers.BertConfig(attn_implementation="eager"), add_pooling_layer=False)
            export(Logits(bert, "last_hidden_state"), torch.randint(0, 1000, (1, 128)), "bert", "input_ids", "output",
                   {0: "batch"})
        elif name == "resnet50":
            export(torchvision.models.resnet50(weights=None), torch.randn(1, 3, 224, 224), "resnet50", "input", "output",
                   {0: "batch"})
        elif name == "conv_tiny":
            tiny = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                                       torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
            export(tiny, torch.randn(1, 3, 224, 224), "conv_tiny", "input", "output", {0: "batch", 2: "h", 3: "w"})
        elif name == "vit_encoder":
            enc = transformers.ViTModel(transformers.ViTConfig(attn_implementation="eager"), add_pooling_layer=True)
            export(Encoder(enc), torch.randn(1, 3, 224, 224), "vit_encoder", "input", ["features", "pooled"],
                   {0: "batch"})
        elif name == "vit_head":
            export(Head(), torch.randn(*FEATURES_SHAPE), "vit_head", "features", "logits", {0: "batch"})


ONNX_TYPES = {1: "TYPE_FP32", 7: "TYPE_INT64"}


def torch_config(models_dir, name):
    import onnx
    m = onnx.load(os.path.join(models_dir, name, "1", "model.onnx"), load_external_data=False)

    def dims(vi):
        d = [d.dim_value if d.HasField("dim_value") else -1 for d in vi.type.tensor_type.shape.dim][1:]
        return DIMS.get((name, vi.name), d)  # the exporter may leave some dimensions symbolic

    init = {i.name for i in m.graph.initializer}
    ins = [i for i in m.graph.input if i.name not in init]
    inputs = ", ".join(f'{{ name: "{i.name}" data_type: {ONNX_TYPES[i.type.tensor_type.elem_type]} '
                       f'dims: {dims(i)} @OPT@{i.name}@ }}' for i in ins)
    outputs = ", ".join(f'{{ name: "{o.name}" data_type: {ONNX_TYPES[o.type.tensor_type.elem_type]} dims: {dims(o)} }}'
                        for o in m.graph.output)
    return (f'name: "{name}"\nbackend: "java_onnxruntime"\nmax_batch_size: 8\n'
            f'input [ {inputs} ]\n'
            f'output [ {outputs} ]\n'
            f'instance_group [ {{ kind: @KIND@ count: 1 }} ]\n')


def example_config(src):
    text = open(src).read()
    text = re.sub(r"instance_group \[.*?\]\n", "instance_group [ { kind: @KIND@ count: 1 } ]\n", text, flags=re.S)
    text = re.sub(r"dynamic_batching \{[^}]*\}\n", "", text)  # batch 1, one request in flight: no queue delay
    text = re.sub(r"\s*optional: (true|false)", "", text)
    head, tail = text.split("output [", 1)
    head = re.sub(r'(name: "(\w+)"\n\s*data_type: \w+\n\s*dims: \[[^\]]*\])', r"\1 @OPT@\2@", head)
    return head + "output [" + tail


def write_repos(work, configs, kind):
    for mode, params in MODES.items():
        repo = os.path.join(work, f"repo-{mode}")
        for name, (cfg, onnx_path) in configs.items():
            if mode not in MODEL_MODES.get(name, MODES):
                continue
            d = os.path.join(repo, name)
            os.makedirs(os.path.join(d, "1"), exist_ok=True)
            link = os.path.join(d, "1", "model.onnx")
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(os.path.abspath(onnx_path), link)
            keyed = KEYED.get(name)

            def opt(m):
                on = mode in KEY_MODES and (keyed is None or m.group(1) in keyed)
                return "optional: true" if on else ""

            text = re.sub(r"@OPT@(\w+)@", opt, cfg.replace("@KIND@", kind))
            p = dict(params)
            p.update(MODEL_PARAMS.get(name, {}))
            if mode in KEY_MODES and keyed is not None:
                for inp in re.findall(r'name: "(\w+)"\s*data_type', text.split("output [")[0]):
                    if inp not in keyed:
                        p[f"input_cache.{inp}"] = "off"
            for k, v in p.items():
                text += f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}\n'
            open(os.path.join(d, "config.pbtxt"), "w").write(text)


def tensor(name, arr, dtype):
    return {"name": name, "shape": list(arr.shape), "datatype": dtype,
            "raw_data_b64": base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()}


def write_requests(work):
    d = os.path.join(work, "requests")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)

    def save(fname, inputs, params=None, outputs=None):
        body = {"inputs": inputs}
        if params:
            body["parameters"] = params
        if outputs:
            body["outputs"] = outputs
        with open(os.path.join(d, fname), "w") as f:
            json.dump(body, f)

    img = {s: rng.standard_normal((1, 3, s, s), dtype=np.float32) for s in (224, 591, 1024)}
    ids = rng.integers(0, 1000, (1, 128), dtype=np.int64)
    bias = rng.standard_normal((1, 4), dtype=np.float32)
    for s, a in img.items():
        save(f"image_{s}.json", [tensor("input", a, "FP32")])
        save(f"image_{s}.first-key.json", [tensor("input", a, "FP32")], {"input_cache_key.input": f"img{s}"})
        save(f"image_{s}.key.json", [], {"input_cache_key.input": f"img{s}"})
    save("ids_128.json", [tensor("input_ids", ids, "INT64")])
    save("ids_128.first-key.json", [tensor("input_ids", ids, "INT64")], {"input_cache_key.input_ids": "ids"})
    save("ids_128.key.json", [], {"input_cache_key.input_ids": "ids"})
    two = [tensor("image", img[224], "FP32"), tensor("bias", bias, "FP32")]
    save("two_input.json", two)
    save("two_input.first-key.json", two, {"input_cache_key.image": "img"})
    save("two_input.key.json", [two[1]], {"input_cache_key.image": "img"})
    # Batch 8 (max_batch_size), key mode only: the first request stores the batch, the rest name it.
    img8 = rng.standard_normal((8, 3, 224, 224), dtype=np.float32)
    ids8 = rng.integers(0, 1000, (8, 128), dtype=np.int64)
    save("image_224_b8.first-key.json", [tensor("input", img8, "FP32")], {"input_cache_key.input": "img224b8"})
    save("image_224_b8.key.json", [], {"input_cache_key.input": "img224b8"})
    save("ids_128_b8.first-key.json", [tensor("input_ids", ids8, "INT64")], {"input_cache_key.input_ids": "idsb8"})
    save("ids_128_b8.key.json", [], {"input_cache_key.input_ids": "idsb8"})
    # The chain vit_encoder -> vit_head. Device path: the encoder keeps `features` resident under a
    # key and returns only `pooled`; the head names the key and carries no data. Client path: the
    # encoder returns `features`, the head request carries them. The client path's features here
    # are random; run.sh replaces them by the encoder's own output (from the identity run).
    enc_in = [tensor("input", img[224], "FP32")]
    out = lambda *names: [{"name": n} for n in names]  # noqa: E731
    save("chain_enc.device.json", enc_in, {"output_cache_key.features": "feat"}, out("pooled"))
    save("chain_head.device.json", [], {"input_cache_key.features": "feat"}, out("logits"))
    save("chain_enc.client.json", enc_in, None, out("features", "pooled"))
    feats = rng.standard_normal(FEATURES_SHAPE, dtype=np.float32)
    save("chain_head.client.json", [tensor("features", feats, "FP32")], None, out("logits"))
    # Identity (triton-host infer): the key path, asking for `features` too so its data is printed.
    save("chain_enc.identity.json", enc_in, {"output_cache_key.features": "feat_id"}, out("features", "pooled"))
    save("chain_head.identity-key.json", [], {"input_cache_key.features": "feat_id"}, out("logits"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--kind", default="KIND_GPU")
    ap.add_argument("--examples", help="model_repository made by model_repository/make_models.py")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch models (CPU smoke test)")
    a = ap.parse_args()
    models_dir = os.path.join(a.work, "models")
    configs = {}
    if not a.no_torch:
        missing = [n for n in TORCH_MODELS if not os.path.exists(os.path.join(models_dir, n, "1", "model.onnx"))]
        if missing:
            export_torch(models_dir, missing)
        for n in TORCH_MODELS:
            configs[n] = (torch_config(models_dir, n), os.path.join(models_dir, n, "1", "model.onnx"))
    if a.examples:
        for n in EXAMPLES:
            configs[n] = (example_config(os.path.join(a.examples, n, "config.pbtxt")),
                          os.path.join(a.examples, n, "1", "model.onnx"))
    write_repos(a.work, configs, a.kind)
    write_requests(a.work)
    print(f"models: {sorted(configs)}; repos: {', '.join('repo-' + m for m in MODES)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
