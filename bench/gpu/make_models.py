"""Makes the GPU benchmark's models, request files and model repositories, with no download.

  python3 make_models.py WORK [--kind KIND_GPU|KIND_CPU] [--examples DIR] [--no-torch]

WORK/models/<name>/1/model.onnx: ViT-base, BERT-base (seq 128, INT64 input_ids) and ResNet-50
from random-initialised configs (transformers, torchvision) and a tiny conv model (Conv 3->8,
Relu, GlobalAveragePool, Flatten; height and width dynamic), exported to ONNX opset 17 with a
dynamic batch dimension. --examples adds the repo's example models (made by
model_repository/make_models.py). WORK/requests/*.json: the request files (KServe v2 JSON with
raw_data_b64). WORK/repo-<mode>/: one model repository per cache mode (config.pbtxt with the mode's
parameters, model.onnx linked).
"""
import argparse
import base64
import json
import os
import re
import shutil
import sys

import numpy as np

MODES = {
    "ort": {"input_staging": "ort", "input_cache": "off"},
    "pinned": {"input_cache": "off"},
    "content": {"input_cache": "content"},
    "key": {"input_cache": "key"},
    "auto": {"input_cache": "auto"},
    # content with one ORT intra-op thread per session (ORT's default: one per core, per session)
    "content_t1": {"input_cache": "content", "intra_op_thread_count": "1"},
}
# model -> (input name, dtype, dims without batch, output name); filled from the ONNX files.
TORCH_MODELS = ["vit", "bert", "resnet50", "conv_tiny"]
EXAMPLES = ["conv_net", "vit_patch", "text_encoder", "two_input"]
# Inputs each model keys by name in `key` mode; the others stay `off` there.
KEYED = {"two_input": ["image"]}


def export_torch(models_dir):
    import torch
    import onnx

    torch.manual_seed(0)

    def export(model, example, name, in_name, out_name, dyn):
        path = os.path.join(models_dir, name, "1", "model.onnx")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.eval()
        kw = dict(input_names=[in_name], output_names=[out_name], opset_version=17,
                  dynamic_axes={in_name: dyn, out_name: {0: "batch"}})
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

    import transformers
    import torchvision

    vit = transformers.ViTForImageClassification(transformers.ViTConfig(attn_implementation="eager"))
    export(Logits(vit, "logits"), torch.randn(1, 3, 224, 224), "vit", "input", "output", {0: "batch"})
    bert = transformers.BertModel(transformers.BertConfig(attn_implementation="eager"), add_pooling_layer=False)
    export(Logits(bert, "last_hidden_state"), torch.randint(0, 1000, (1, 128)), "bert", "input_ids", "output",
           {0: "batch"})
    export(torchvision.models.resnet50(weights=None), torch.randn(1, 3, 224, 224), "resnet50", "input", "output",
           {0: "batch"})
    tiny = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                               torch.nn.Flatten())
    export(tiny, torch.randn(1, 3, 224, 224), "conv_tiny", "input", "output", {0: "batch", 2: "h", 3: "w"})


ONNX_TYPES = {1: "TYPE_FP32", 7: "TYPE_INT64"}


def torch_config(models_dir, name):
    import onnx
    m = onnx.load(os.path.join(models_dir, name, "1", "model.onnx"), load_external_data=False)

    def dims(vi):
        return [d.dim_value if d.HasField("dim_value") else -1 for d in vi.type.tensor_type.shape.dim][1:]

    i, o = m.graph.input[0], m.graph.output[0]
    odims = dims(o)
    if name == "bert":  # the exporter leaves the sequence dimension symbolic
        odims = [128, 768]
    return (f'name: "{name}"\nbackend: "java_onnxruntime"\nmax_batch_size: 8\n'
            f'input [ {{ name: "{i.name}" data_type: {ONNX_TYPES[i.type.tensor_type.elem_type]} '
            f'dims: {dims(i)} @OPT@{i.name}@ }} ]\n'
            f'output [ {{ name: "{o.name}" data_type: {ONNX_TYPES[o.type.tensor_type.elem_type]} dims: {odims} }} ]\n'
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
            d = os.path.join(repo, name)
            os.makedirs(os.path.join(d, "1"), exist_ok=True)
            link = os.path.join(d, "1", "model.onnx")
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(os.path.abspath(onnx_path), link)
            keyed = KEYED.get(name)

            def opt(m):
                on = mode == "key" and (keyed is None or m.group(1) in keyed)
                return "optional: true" if on else ""

            text = re.sub(r"@OPT@(\w+)@", opt, cfg.replace("@KIND@", kind))
            p = dict(params)
            if mode == "key" and keyed is not None:
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

    def save(fname, inputs, params=None):
        body = {"inputs": inputs}
        if params:
            body["parameters"] = params
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
        if not all(os.path.exists(os.path.join(models_dir, n, "1", "model.onnx")) for n in TORCH_MODELS):
            export_torch(models_dir)
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
