"""Whether CUDA graphs answer right while batch sizes vary (issue 15 item 6), in the real server:
every request a new random input, of batch sizes cycling 1..8 (one request in flight, so each
Execute runs one request: the captured sizes 1, 2, 4, 8 replay their graph and 3, 5, 6, 7 run
eagerly in the same instance between them), then 4 threads at once sending batch 1 and 2 (dynamic
batching merges them into batches of varying size: stock's reference there is each request alone,
so a merged row may differ by another summation order), then groups of 4 requests sent at once to
<model>__stock__merge and ours __merge, which merge them into one batch of 4 on both backends
(each answer against stock's in the same batch size: the decisive check for merged batches). Each answer of ours (<model>__contentgraph__db,
triton_models.py's sweep copies) is compared with the stock backend's answer to the same request
(<model>__stock__db): bit for bit, else within 1e-3 (ONNX Runtime may pick another cuDNN algorithm
per session and shape; in the concurrent phase, where the two backends batch a request with
different others, within a relative error of 1e-2: another summation order, where another
request's answer is about 1); anything further is wrong. Prints one line per model and the total, and
exits 1 on a wrong answer.

  python3 graph_check.py --url 127.0.0.1:PORT --models vit,resnet50 [--requests 80] [--ours contentgraph]
"""
import argparse
import json
import sys
import threading

import numpy as np

import triton_bench as tb


def answer(conn, model, req, outputs):
    _, header, data = conn.infer(model, bytes(req.body), req.hlen)
    out, offset = {}, 0
    for o in json.loads(header)["outputs"]:
        n = o["parameters"]["binary_data_size"]
        out[o["name"]] = np.frombuffer(data[offset:offset + n], dtype=tb.DTYPES[o["datatype"]])
        offset += n
    return [out[o] for o in outputs]


def relative(ours, stock):
    """The largest |ours - stock| over the largest |stock|, over every output: about 1e-3 for
    another summation order in TF32, about 1 for another request's answer."""
    return max(float(np.max(np.abs(a.astype(np.float64) - b)) / max(float(np.max(np.abs(b))), 1e-30))
               for a, b in zip(ours, stock))


def compare(ours, stock, merged_apart=False):
    """identical, close or wrong. MERGED_APART: the two backends batched this request with
    different others (the concurrent phase), so another summation order is expected: close up to
    a relative error (relative()) of 1e-2, where another request's answer gives about 1."""
    if all(np.array_equal(a, b) for a, b in zip(ours, stock)):
        return "identical"
    if merged_apart:
        return "close" if relative(ours, stock) <= 1e-2 else "wrong"
    close = all(np.allclose(a, b, rtol=1e-3, atol=1e-3) for a, b in zip(ours, stock))
    return "close" if close else "wrong"


def check(host, port, model, requests, ours_variant):
    conn = tb.Conn(host, port)
    meta = conn.get(f"/v2/models/{model}__stock__db")
    outputs = [o["name"] for o in meta["outputs"]]
    rng = np.random.default_rng(5)

    def request(batch):
        inputs = []
        for i in meta["inputs"]:
            shape = [batch] + [d if d > 0 else 1 for d in i["shape"][1:]]
            dt = tb.DTYPES[i["datatype"]]
            x = rng.integers(0, 1000, shape) if np.issubdtype(dt, np.integer) else rng.standard_normal(shape)
            inputs.append((i["name"], i["datatype"], shape, np.ascontiguousarray(x, dtype=dt).tobytes()))
        return tb.Req(inputs, outputs)

    counts = {"identical": 0, "close": 0, "wrong": 0}
    wrong_at = []
    worst = 0.0
    rel = []
    for k in range(requests):
        req = request(k % 8 + 1)
        ours = answer(conn, f"{model}__{ours_variant}__db", req, outputs)
        verdict = compare(ours, answer(conn, f"{model}__stock__db", req, outputs))
        counts[verdict] += 1
        if verdict == "wrong":
            wrong_at.append(f"seq b{k % 8 + 1}")
            stock = answer(conn, f"{model}__stock__db", req, outputs)
            worst = max(worst, max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(ours, stock)))
            rel.append(relative(ours, stock))
    reqs = [request(1 + k % 2) for k in range(4 * requests // 2)]
    ours = [None] * len(reqs)
    lock = threading.Lock()
    failures = []

    def worker(t):
        c = tb.Conn(host, port)
        try:
            for k in range(t, len(reqs), 4):
                ours[k] = answer(c, f"{model}__{ours_variant}__db", reqs[k], outputs)
        except Exception as e:  # noqa: BLE001 (reported, counted as wrong)
            with lock:
                failures.append(str(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, req in enumerate(reqs):
        stock = None if ours[k] is None else answer(conn, f"{model}__stock__db", req, outputs)
        verdict = "wrong" if ours[k] is None else compare(ours[k], stock, merged_apart=True)
        counts[verdict] += 1
        if verdict == "wrong" and stock is not None:
            rel.append(relative(ours[k], stock))
        if verdict == "wrong":
            wrong_at.append(f"conc #{k}")
    merged = merged_phase(host, port, model, ours_variant, outputs, request, requests // 4)
    for verdict, n in merged["counts"].items():
        counts[verdict] += n
    rel += merged["rel"]
    wrong_at += merged["wrong_at"]
    conn.close()
    executions = [w for w in merged["wrong_at"] if w.startswith("[")]
    wrong_at = [w for w in wrong_at if not w.startswith("[")]
    print(f"graph check {model}: merged groups (4 requests at once, one batch of 4 on both backends): "
          f"{merged['counts']} {' '.join(executions)}", flush=True)
    print(f"graph check {model}: {sum(counts.values())} answers: {counts['identical']} identical to stock, "
          f"{counts['close']} close (within 1e-3; merged apart: relative 1e-2), {counts['wrong']} wrong" + (f" (max |diff| {worst:.4g})" if worst else "")
          + (f"; errors: {failures[:2]}" if failures else "")
          + (f"; relative error of the wrong ones: median {sorted(rel)[len(rel) // 2]:.3g}, max {max(rel):.3g}"
             if rel else "")
          + (f"; wrong: {' '.join(wrong_at[:40])}" if wrong_at else ""), flush=True)
    return counts["wrong"]


def merged_phase(host, port, model, ours_variant, outputs, request, groups):
    """Groups of 4 batch-1 requests sent at once to <model>__stock__merge and to ours
    (<model>__<ours>__merge), which batch them alike (triton_models.py's MERGE_BATCHING): each
    answer against stock's for the same request in the same merged batch size."""
    counts = {"identical": 0, "close": 0, "wrong": 0}
    rel, wrong_at = [], []
    conns = [tb.Conn(host, port) for _ in range(4)]
    try:
        conns[0].get(f"/v2/models/{model}__stock__merge")
    except Exception:  # noqa: BLE001 (no merge copies in this repository: nothing to check)
        return {"counts": counts, "rel": rel, "wrong_at": wrong_at}

    def burst(variant, reqs):
        answers = [None] * 4
        barrier = threading.Barrier(4)

        def one(i):
            barrier.wait()
            answers[i] = answer(conns[i], f"{model}__{variant}__merge", reqs[i], outputs)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return answers

    try:
        for g in range(groups):
            reqs = [request(1) for _ in range(4)]
            stock = burst("stock", reqs)
            ours = burst(ours_variant, reqs)
            for i in range(4):
                verdict = "wrong" if ours[i] is None or stock[i] is None else compare(ours[i], stock[i])
                counts[verdict] += 1
                if verdict == "wrong":
                    wrong_at.append(f"merged {g}.{i}")
                    if ours[i] is not None and stock[i] is not None:
                        rel.append(relative(ours[i], stock[i]))
        for variant in ("stock", ours_variant):
            st = conns[0].get(f"/v2/models/{model}__{variant}__merge/stats")["model_stats"][0]
            wrong_at.append(f"[{variant}: {st['inference_count']} requests in {st['execution_count']} executions]")
    finally:
        for c in conns:
            c.close()
    return {"counts": counts, "rel": rel, "wrong_at": wrong_at}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--models", default="vit,resnet50")
    ap.add_argument("--requests", type=int, default=80)
    ap.add_argument("--ours", default="contentgraph", help="our variant (content: a smoke test without a GPU)")
    a = ap.parse_args()
    host, port = a.url.split(":")
    wrong = sum(check(host, int(port), m, a.requests, a.ours) for m in a.models.split(","))
    print(f"graph check: {'PASS' if wrong == 0 else 'FAIL'}, {wrong} wrong answers")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
