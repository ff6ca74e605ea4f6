"""Makes one model repository for the real-server benchmark (triton_run.sh): every model once per
variant, the stock onnxruntime backend's copy and ours in each mode, all linked to the same ONNX file.

  python3 triton_models.py WORK [--examples DIR] [--no-torch] [--kind KIND_GPU|KIND_CPU] [--variants a,b]

Exports the torch models with make_models.py (WORK/models/, reused when present) and writes
WORK/repo-triton/<model>__<variant>/ (config.pbtxt, 1/model.onnx a symlink to WORK/models/...).
Variants: `stock` (backend onnxruntime, Triton's defaults, no parameters) and ours
(backend java_onnxruntime) in the modes of VARIANTS. The key variants declare their keyed inputs
`optional: true` (the requests after the first carry only the key); the chain's two halves share
one input_cache_group per variant. Prints the model names, one line.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models  # noqa: E402

# Our modes (model parameters). cuda_graph written out everywhere: the eager modes say "off".
VARIANTS = {
    "ort": {"input_staging": "ort", "input_cache": "off", "cuda_graph": "off"},
    "key": {"input_cache": "key", "cuda_graph": "off"},
    "content": {"input_cache": "content", "cuda_graph": "off"},
    "keygraph": {"input_cache": "key", "cuda_graph": "on", "cuda_graph_batch_sizes": "1"},
    "contentgraph": {"input_cache": "content", "cuda_graph": "on", "cuda_graph_batch_sizes": "1"},
    # As key, with one ONNX Runtime intra-op thread (ORT's default: one per core, spinning) for
    # each CUDA session: whether the eager path gains from the cores it leaves to the others.
    "key1t": {"input_cache": "key", "cuda_graph": "off", "intra_op_thread_count": "1"},
    # Ours as a user who only switches the backend gets it: no parameter (input_cache auto,
    # cuda_graph on for batch sizes 1 and max_batch_size).
    "default": {},
}
KEY_VARIANTS = ("key", "keygraph", "key1t")
TORCH = ["vit", "bert", "resnet50", "conv_tiny", "vit_encoder", "vit_head"]
# The chains' halves and their cache group (the example chain_encoder/chain_head: smoke test only).
CHAIN = {"vit_encoder": "vitchain", "vit_head": "vitchain", "chain_encoder": "smallchain", "chain_head": "smallchain"}
# Which variants each model gets (the chain: the stock-like client path and the key paths).
MODEL_VARIANTS = {m: ("stock", "ort", "key", "keygraph") for m in CHAIN}
KEYED = {"two_input": ["image"]}  # inputs keyed in the key variants; every input where absent
# The concurrency sweep (perf_analyzer, triton_run.sh): dynamic batching on, the same input sent
# every time (no client change: content keys), graphs for the batch sizes a batch of up to
# max_batch_size 8 takes most (the others run eagerly).
SWEEP_VARIANTS = {
    "stock": {},
    "ort": VARIANTS["ort"],
    "content": VARIANTS["content"],
    "contentgraph": dict(VARIANTS["contentgraph"], cuda_graph_batch_sizes="1,2,4,8"),
    "default": {},
}
DYNAMIC_BATCHING = "dynamic_batching { max_queue_delay_microseconds: 100 }\n"
# graph_check.py's merged phase: <model>__<variant>__merge, where 4 requests sent at once are
# merged into one batch of 4 (a long queue delay, 4 preferred), the same on both backends.
MERGE_VARIANTS = ("stock", "content", "contentgraph", "default")
MERGE_BATCHING = "dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 100000 }\n"


def config(template, model, variant, kind):
    text = template.replace("@KIND@", kind)
    text = re.sub(r'^name: "[^"]*"', f'name: "{model}__{variant}"', text, count=1, flags=re.M)
    keyed = KEYED.get(model)
    inputs = re.findall(r'name: "(\w+)"\s*data_type', text.split("output [")[0])

    def opt(m):
        on = variant in KEY_VARIANTS and (keyed is None or m.group(1) in keyed)
        return "optional: true" if on else ""

    text = re.sub(r"@OPT@(\w+)@", opt, text)
    if variant == "stock":
        return re.sub(r'^backend: "[^"]*"', 'backend: "onnxruntime"', text, count=1, flags=re.M)
    text = re.sub(r'^backend: "[^"]*"', 'backend: "java_onnxruntime"', text, count=1, flags=re.M)
    p = dict(VARIANTS[variant])
    if model in CHAIN:
        p["input_cache_group"] = f"{CHAIN[model]}_{variant}"
    if variant in KEY_VARIANTS and keyed is not None:
        for inp in inputs:
            if inp not in keyed:
                p[f"input_cache.{inp}"] = "off"
    for k, v in p.items():
        text += f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}\n'
    return text


def write_model(d, onnx_path, text):
    """Model directory d: config.pbtxt of text, 1/model.onnx a symlink to onnx_path."""
    os.makedirs(os.path.join(d, "1"), exist_ok=True)
    link = os.path.join(d, "1", "model.onnx")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.abspath(onnx_path), link)
    with open(os.path.join(d, "config.pbtxt"), "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--examples", help="the bundle's examples/ (two_input)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch models (CPU smoke test)")
    ap.add_argument("--kind", default="KIND_GPU")
    ap.add_argument("--variants", default="stock," + ",".join(VARIANTS), help="comma-separated subset")
    ap.add_argument("--sweep", default="", help="models that also get <model>__<variant>__db copies "
                    "with dynamic batching, for SWEEP_VARIANTS, and __merge copies for graph_check.py's "
                    "merged phase (comma-separated)")
    a = ap.parse_args()
    want = set(a.variants.split(","))
    models_dir = os.path.join(a.work, "models")
    templates = {}
    if not a.no_torch:
        missing = [n for n in TORCH if not os.path.exists(os.path.join(models_dir, n, "1", "model.onnx"))]
        if missing:
            make_models.export_torch(models_dir, missing)
        for n in TORCH:
            templates[n] = (make_models.torch_config(models_dir, n), os.path.join(models_dir, n, "1", "model.onnx"))
    if a.examples:
        for n in ("two_input", "conv_net") + (("chain_encoder", "chain_head") if a.no_torch else ()):
            templates[n] = (make_models.example_config(os.path.join(a.examples, n, "config.pbtxt")),
                            os.path.join(a.examples, n, "1", "model.onnx"))
    repo = os.path.join(a.work, "repo-triton")
    names = []
    for model, (tmpl, onnx_path) in templates.items():
        for variant in MODEL_VARIANTS.get(model, ("stock",) + tuple(VARIANTS)):
            if variant not in want:
                continue
            write_model(os.path.join(repo, f"{model}__{variant}"), onnx_path, config(tmpl, model, variant, a.kind))
            names.append(f"{model}__{variant}")
    for model in filter(None, a.sweep.split(",")):
        tmpl, onnx_path = templates[model]
        copies = [(v, p, "db", DYNAMIC_BATCHING) for v, p in SWEEP_VARIANTS.items()]
        copies += [(v, SWEEP_VARIANTS[v], "merge", MERGE_BATCHING) for v in MERGE_VARIANTS]
        for variant, params, suffix, batching in copies:
            text = re.sub(r'^name: "[^"]*"', f'name: "{model}__{variant}__{suffix}"', tmpl, count=1, flags=re.M)
            text = re.sub(r"@OPT@\w+@", "", text.replace("@KIND@", a.kind)) + batching
            backend = "onnxruntime" if variant == "stock" else "java_onnxruntime"
            text = re.sub(r'^backend: "[^"]*"', f'backend: "{backend}"', text, count=1, flags=re.M)
            for k, v in params.items():
                text += f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}\n'
            write_model(os.path.join(repo, f"{model}__{variant}__{suffix}"), onnx_path, text)
            names.append(f"{model}__{variant}__{suffix}")
    print(f"{len(names)} models in {repo}: {' '.join(names)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
