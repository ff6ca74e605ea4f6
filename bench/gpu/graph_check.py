"""Whether CUDA graphs answer right while batch sizes vary (issue 15 item 6), in the real server:
every request a new random input, of batch sizes cycling 1..8 (one request in flight, so each
Execute runs one request: the captured sizes 1, 2, 4, 8 replay their graph and 3, 5, 6, 7 run
eagerly in the same instance between them), then 4 threads at once sending batch 1 and 2 (dynamic
batching merges them into batches of varying size). Each answer of ours (<model>__contentgraph__db,
triton_models.py's sweep copies) is compared with the stock backend's answer to the same request
(<model>__stock__db): bit for bit, else within 1e-3 (ONNX Runtime may pick another cuDNN algorithm
per session and shape); anything further is wrong. Prints one line per model and the total, and
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


def compare(ours, stock):
    if all(np.array_equal(a, b) for a, b in zip(ours, stock)):
        return "identical"
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
        verdict = "wrong" if ours[k] is None else compare(ours[k], stock)
        counts[verdict] += 1
        if verdict == "wrong" and stock is not None:
            rel.append(relative(ours[k], stock))
        if verdict == "wrong":
            wrong_at.append(f"conc #{k}")
    conn.close()
    print(f"graph check {model}: {sum(counts.values())} answers: {counts['identical']} identical to stock, "
          f"{counts['close']} within 1e-3, {counts['wrong']} wrong" + (f" (max |diff| {worst:.4g})" if worst else "")
          + (f"; errors: {failures[:2]}" if failures else "")
          + (f"; relative error of the wrong ones: median {sorted(rel)[len(rel) // 2]:.3g}, max {max(rel):.3g}"
             if rel else "")
          + (f"; wrong: {' '.join(wrong_at[:40])}" if wrong_at else ""), flush=True)
    return counts["wrong"]


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
