"""The real-server benchmark's client (triton_run.sh): replays every scenario against one running
tritonserver that serves each model once per variant (<model>__<variant>, triton_models.py), over
HTTP with the binary tensor extension, and checks every answer against the stock backend's.

  python3 triton_bench.py --url 127.0.0.1:PORT --out RESULTS.jsonl [--pass plain|cupti] [options]

Method (as ../shared/research/peer-h200-real-triton.md): Python http.client, one keep-alive
connection per model and one request per model in flight. The seed: one thread per model, 100
warm-up then 100 measured cycles, each cycle one request to each of the 3 models at once (a
barrier per cycle), the same input every time; `--reps` repetitions, the variants interleaved
within each repetition. Single-model scenarios (sweep, partial, unique): one connection, 20 warm-up
and 100 measured requests. The chain: encoder, then the head after the encoder's answer (one
latency sample per chain). Key variants: one request that carries the data and
`input_cache_key.<input>` is sent before the warm-up; the others carry the key only.
Inputs are random (seed 0) with the models' metadata shapes; `--vary` inputs get the request's
sequence number in their first 8 bytes (every request different).

Each (scenario, variant, rep) writes one JSON line: wall time of the measured phase (first send to
last answer), requests, per model p50/p99/mean latency and the server's per-request
queue/compute_input/compute_infer/compute_output (the /v2/models/<m>/stats difference over the
measured phase), the measured window in CLOCK_REALTIME ns (to cut CUPTI records to it), and the
identity: how many measured answers equal the stock variant's answer to the same request, bit for
bit, and the largest absolute difference where one does not.
"""
import argparse
import hashlib
import http.client
import json
import re
import struct
import sys
import threading
import time

import numpy as np

DTYPES = {"FP32": np.float32, "INT64": np.int64, "FP16": np.float16, "INT32": np.int32}


class Conn:
    def __init__(self, host, port):
        self.c = http.client.HTTPConnection(host, port, timeout=120)

    def get(self, path):
        self.c.request("GET", path)
        r = self.c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {r.status}: {body[:300]!r}")
        return json.loads(body)

    def infer(self, model, body, hlen):
        """POSTs a prebuilt body; returns (latency ns, send ns realtime, output JSON, binary part)."""
        t0 = time.perf_counter_ns()
        self.c.request("POST", f"/v2/models/{model}/infer", body=body,
                       headers={"Inference-Header-Content-Length": str(hlen),
                                "Content-Type": "application/octet-stream"})
        r = self.c.getresponse()
        data = r.read()
        t1 = time.perf_counter_ns()
        if r.status != 200:
            raise RuntimeError(f"{model}: HTTP {r.status}: {data[:400]!r}")
        h = int(r.getheader("Inference-Header-Content-Length") or len(data))
        return t1 - t0, data[:h], data[h:]

    def close(self):
        self.c.close()


class Req:
    """One request's body, prebuilt: JSON header + binary inputs; `vary` patches bytes in place."""

    def __init__(self, inputs, outputs, params=None):
        # inputs: [(name, datatype, shape, bytes)]; outputs: [names]
        hdr = {"inputs": [{"name": n, "datatype": dt, "shape": list(sh), "parameters": {"binary_data_size": len(b)}}
                          for n, dt, sh, b in inputs],
               "outputs": [{"name": o, "parameters": {"binary_data": True}} for o in outputs]}
        if params:
            hdr["parameters"] = params
        h = json.dumps(hdr).encode()
        self.hlen = len(h)
        self.body = bytearray(h)
        self.offsets = {}
        for n, _, _, b in inputs:
            self.offsets[n] = len(self.body)
            self.body += b

    def vary(self, names, seq):
        for n in names:
            struct.pack_into("<q", self.body, self.offsets[n], seq)


def np_prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else None


STAT_KEYS = ("queue", "compute_input", "compute_infer", "compute_output", "success")


def stats(conn, model):
    s = conn.get(f"/v2/models/{model}/stats")["model_stats"][0]["inference_stats"]
    return {k: (int(s[k]["count"]), int(s[k]["ns"])) for k in STAT_KEYS}


def stats_diff(a, b):
    out = {}
    n = b["success"][0] - a["success"][0]
    out["count"] = n
    for k in STAT_KEYS[:4]:
        out[k + "_us"] = round((b[k][1] - a[k][1]) / max(n, 1) / 1000, 1)
    return out


class Bench:
    def __init__(self, a):
        self.a = a
        host, port = a.url.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.ctl = Conn(self.host, self.port)
        self.meta = {}
        self.rng = np.random.default_rng(0)
        self.data = {}
        self.reference = {}  # (scenario, model) -> [binary answers of the stock variant]
        self.input_bytes = set()
        self.out = open(a.out, "a")
        self.t_start = time.time()

    def metadata(self, model):
        if model not in self.meta:
            self.meta[model] = self.ctl.get(f"/v2/models/{model}")
        return self.meta[model]

    def has(self, model):
        try:
            self.metadata(model)
            return True
        except Exception:
            return False

    def tensor(self, key, dt, shape):
        """Random data, the same for every variant (keyed by scenario input)."""
        if key not in self.data:
            if dt == "INT64" or dt == "INT32":
                arr = self.rng.integers(0, 1000, shape, dtype=DTYPES[dt])
            else:
                arr = self.rng.standard_normal(shape, dtype=np.float32).astype(DTYPES[dt])
            self.data[key] = np.ascontiguousarray(arr).tobytes()
        return self.data[key]

    def inputs_of(self, model, shapes=None):
        md = self.metadata(model)
        res = []
        for i in md["inputs"]:
            sh = [1 if d == -1 else d for d in i["shape"]]
            if shapes and i["name"] in shapes:
                sh = shapes[i["name"]]
            res.append((i["name"], i["datatype"], sh))
        return res, [o["name"] for o in md["outputs"]]

    def requests(self, scen, base, variant, shapes=None, vary=(), outputs=None):
        """(first request or None, steady request) for BASE__VARIANT in scenario SCEN."""
        model = f"{base}__{variant}"
        ins, outs = self.inputs_of(model, shapes)
        outs = outputs or outs
        full = [(n, dt, sh, self.tensor(f"{scen}:{base}:{n}", dt, sh)) for n, dt, sh in ins]
        self.input_bytes.update(len(t[3]) for t in full)
        if variant.startswith("key"):
            # the inputs the model declares optional (triton_models.py: the keyed ones), unless varied
            cfg = self.ctl.get(f"/v2/models/{model}/config")
            opt = {i["name"] for i in cfg.get("input", []) if i.get("optional")}
            keyed = [n for n, _, _ in ins if n not in vary and n in opt]
            params = {f"input_cache_key.{n}": f"{scen}.{n}" for n in keyed}
            first = Req(full, outs, params)
            steady = Req([t for t in full if t[0] not in keyed], outs, params)
            return first, steady
        return None, Req(full, outs)

    def emit(self, row):
        row["pass"] = self.a.pass_
        row["input_bytes"] = sorted(self.input_bytes)  # sizes of the scenario's full input tensors
        self.input_bytes = set()
        self.out.write(json.dumps(row) + "\n")
        self.out.flush()
        m = " ".join(f"{k}: p50 {v['p50_us']} us" for k, v in row["models"].items())
        idt = row.get("identity", {})
        print(f"{row['scenario']:<14} {row['variant']:<13} rep {row['rep']} {row['wall_s']:.3f} s "
              f"{row['requests']} req; {m}; equal {idt.get('equal')}/{idt.get('total')}", flush=True)

    def identity(self, scen, base, variant, answers):
        """Compares ANSWERS (binary parts, in request order) with the stock variant's."""
        key = (scen, base)
        if variant == "stock" and key not in self.reference:
            self.reference[key] = answers
        ref = self.reference.get(key)
        if ref is None:
            return {"equal": None, "total": len(answers), "note": "no stock answers"}
        eq = sum(1 for x, y in zip(answers, ref) if x == y)
        res = {"equal": eq, "total": min(len(answers), len(ref))}
        if eq < res["total"]:
            diffs = [float(np.max(np.abs(np.frombuffer(x, np.float32).astype(np.float64) -
                                         np.frombuffer(y, np.float32).astype(np.float64))))
                     for x, y in zip(answers, ref) if x != y and len(x) == len(y) and len(x) % 4 == 0]
            res["max_abs_diff"] = max(diffs) if diffs else None
            res["size_mismatch"] = sum(1 for x, y in zip(answers, ref) if len(x) != len(y))
        return res

    # --- the JVM's warm-up (--jvm-warmup) -----------------------------------------------------------
    def warm(self, variant, count):
        """COUNT requests to each seed model of VARIANT, one thread per model, nothing recorded:
        before any measurement, so that every variant is measured in the JVM's steady state (its
        JIT compiles a method for good after some thousand calls; a request path measured before
        that runs profiled C1 code, several times slower). Stock gets the same, for symmetry."""
        models = [f"{b}__{variant}" for b in self.a.seed]
        reqs = [self.requests("seed", b, variant) for b in self.a.seed]
        errs = []

        def worker(m, first, steady):
            c = Conn(self.host, self.port)
            try:
                if first is not None:
                    c.infer(m, first.body, first.hlen)
                for _ in range(count):
                    c.infer(m, steady.body, steady.hlen)
            except Exception as e:  # noqa: BLE001
                errs.append(f"{m}: {e!r}")
            finally:
                c.close()

        t = time.perf_counter()
        ths = [threading.Thread(target=worker, args=(m, f, st)) for m, (f, st) in zip(models, reqs)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        if errs:
            raise RuntimeError(f"jvm warm-up {variant}: {errs[0]}")
        print(f"jvm warm-up    {variant:<13} {count} requests per model in {time.perf_counter() - t:.1f} s", flush=True)

    # --- the seed: one thread per model, a barrier per cycle -------------------------------------
    def seed(self, variant, rep):
        scen = "seed"
        bases = self.a.seed
        models = [f"{b}__{variant}" for b in bases]
        reqs = [self.requests(scen, b, variant) for b in bases]
        conns = [Conn(self.host, self.port) for _ in bases]
        for c, (first, _), m in zip(conns, reqs, models):
            if first is not None:
                c.infer(m, first.body, first.hlen)
        n = len(bases)
        cyc = threading.Barrier(n)
        gate = threading.Barrier(n + 1)
        res = [dict(lat=[], ans=[], t0=None, t1=None, w0=None, w1=None, err=None) for _ in bases]

        # --seed-lockstep 1 (the default): a barrier per cycle, so the models' requests arrive
        # together; 0: each model's client sends its next request as soon as it has its answer
        # (after --seed-pause-us), out of step with the others.
        step = cyc.wait if self.a.seed_lockstep else (lambda: None)
        pause = self.a.seed_pause_us / 1e6

        def worker(i):
            c, (_, r), m, st = conns[i], reqs[i], models[i], res[i]
            try:
                for _ in range(self.a.seed_warmup):
                    cyc.wait()
                    c.infer(m, r.body, r.hlen)
                gate.wait()
                gate.wait()
                for k in range(self.a.repeat):
                    step()
                    if k == 0:
                        st["t0"], st["w0"] = time.perf_counter_ns(), time.time_ns()
                    lat, _, ans = c.infer(m, r.body, r.hlen)
                    st["lat"].append(lat)
                    st["ans"].append(ans)
                    if pause:
                        time.sleep(pause)
                st["t1"], st["w1"] = time.perf_counter_ns(), time.time_ns()
            except Exception as e:  # noqa: BLE001
                st["err"] = repr(e)
                cyc.abort()
                gate.abort()
            try:
                gate.wait()
            except threading.BrokenBarrierError:
                pass

        ths = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in ths:
            t.start()
        try:
            gate.wait()
            before = {m: stats(self.ctl, m) for m in models}
            gate.wait()
            gate.wait()
        except threading.BrokenBarrierError:
            pass
        for t in ths:
            t.join(300)
        for c in conns:
            c.close()
        errs = [r["err"] for r in res if r["err"]]
        if errs:
            raise RuntimeError(f"seed {variant}: {errs[0]}")
        after = {m: stats(self.ctl, m) for m in models}
        t0 = min(r["t0"] for r in res)
        t1 = max(r["t1"] for r in res)
        row = dict(scenario="seed", variant=variant, rep=rep, wall_s=(t1 - t0) / 1e9,
                   lockstep=bool(self.a.seed_lockstep), pause_us=self.a.seed_pause_us,
                   requests=sum(len(r["lat"]) for r in res),
                   window_unix_ns=[min(r["w0"] for r in res), max(r["w1"] for r in res)], models={})
        ident = {"equal": 0, "total": 0}
        for b, m, r in zip(bases, models, res):
            row["models"][b] = self.lat_row(r["lat"]) | {"server": stats_diff(before[m], after[m])}
            idt = self.identity(scen, b, variant, r["ans"])
            row["models"][b]["identity"] = idt
            ident = self.merge(ident, idt)
        row["identity"] = ident
        self.emit(row)

    @staticmethod
    def merge(a, b):
        if b.get("equal") is None:
            return {"equal": None, "total": a["total"] + b["total"]}
        out = {"equal": (a["equal"] or 0) + b["equal"], "total": a["total"] + b["total"]}
        d = [x for x in (a.get("max_abs_diff"), b.get("max_abs_diff")) if x is not None]
        if d:
            out["max_abs_diff"] = max(d)
        return out

    @staticmethod
    def lat_row(lat):
        return {"p50_us": round(pct(lat, 50) / 1000, 1), "p99_us": round(pct(lat, 99) / 1000, 1),
                "mean_us": round(sum(lat) / len(lat) / 1000, 1), "n": len(lat)}

    # --- one model, one connection ---------------------------------------------------------------
    def single(self, scen, base, variant, shapes=None, vary=()):
        m = f"{base}__{variant}"
        first, r = self.requests(scen, base, variant, shapes, vary)
        c = Conn(self.host, self.port)
        if first is not None:
            c.infer(m, first.body, first.hlen)
        seq = 0
        for _ in range(self.a.warmup):
            seq += 1
            r.vary(vary, seq)
            c.infer(m, r.body, r.hlen)
        before = stats(self.ctl, m)
        lat, ans = [], []
        w0, t0 = time.time_ns(), time.perf_counter_ns()
        for _ in range(self.a.repeat):
            seq += 1
            r.vary(vary, seq)
            x, _, a = c.infer(m, r.body, r.hlen)
            lat.append(x)
            ans.append(a)
        t1, w1 = time.perf_counter_ns(), time.time_ns()
        c.close()
        after = stats(self.ctl, m)
        idt = self.identity(scen, base, variant, ans)
        self.emit(dict(scenario=scen, variant=variant, rep=0, wall_s=(t1 - t0) / 1e9, requests=len(lat),
                       window_unix_ns=[w0, w1], identity=idt,
                       models={base: self.lat_row(lat) | {"server": stats_diff(before, after), "identity": idt}}))

    # --- the chain: encoder, then head ------------------------------------------------------------
    def chain(self, variant):
        enc_b, head_b = self.a.chain
        feat = self.a.chain_features
        enc, head = f"{enc_b}__{variant}", f"{head_b}__{variant}"
        ins, enc_outs = self.inputs_of(enc)
        hin, head_outs = self.inputs_of(head)
        others = [o for o in enc_outs if o != feat]  # the encoder's other outputs (ViT: pooled)
        full = [(n, dt, sh, self.tensor(f"chain:{enc_b}:{n}", dt, sh)) for n, dt, sh in ins]
        self.input_bytes.update([len(t[3]) for t in full] + [4 * np_prod(sh) for _, _, sh in hin])
        device = variant.startswith("key")
        if device:
            er = Req(full, others, {f"output_cache_key.{feat}": "feat"})
            hr = Req([], head_outs, {f"input_cache_key.{feat}": "feat"})
        else:
            er = Req(full, [feat] + others)
        # one keep-alive connection per model
        ce, ch = Conn(self.host, self.port), Conn(self.host, self.port)

        def one():
            t0 = time.perf_counter_ns()
            _, hj, eb = ce.infer(enc, er.body, er.hlen)
            parts, off = {}, 0
            for o in json.loads(hj)["outputs"]:
                sz = o["parameters"]["binary_data_size"]
                parts[o["name"]] = (o["shape"], o["datatype"], eb[off:off + sz])
                off += sz
            if device:
                _, _, hb = ch.infer(head, hr.body, hr.hlen)
            else:
                sh, dt, feats = parts[feat]
                r = Req([(feat, dt, sh, feats)], head_outs)
                _, _, hb = ch.infer(head, r.body, r.hlen)
            return time.perf_counter_ns() - t0, b"".join(parts[o][2] for o in others) + hb

        for _ in range(self.a.warmup):
            one()
        before = {m: stats(self.ctl, m) for m in (enc, head)}
        lat, ans = [], []
        w0, t0 = time.time_ns(), time.perf_counter_ns()
        for _ in range(self.a.repeat):
            x, a = one()
            lat.append(x)
            ans.append(a)
        t1, w1 = time.perf_counter_ns(), time.time_ns()
        ce.close()
        ch.close()
        after = {m: stats(self.ctl, m) for m in (enc, head)}
        idt = self.identity("chain", enc_b, variant, ans)
        row = dict(scenario="chain", variant=variant, rep=0, wall_s=(t1 - t0) / 1e9, requests=len(lat),
                   window_unix_ns=[w0, w1], identity=idt, path="device" if device else "client",
                   models={"chain": self.lat_row(lat) | {"identity": idt}})
        for b, m in ((enc_b, enc), (head_b, head)):
            row["models"]["chain"][b] = stats_diff(before[m], after[m])
        self.emit(row)

    def run(self):
        a = self.a
        plan = []
        for rep in range(a.reps):
            for v in a.variants:
                plan.append((f"seed-{v}-r{rep}", lambda v=v, rep=rep: self.seed(v, rep), [f"{b}__{v}" for b in a.seed]))
        for s in a.sweep_sizes:
            for v in a.variants:
                shapes = {"input": [1, 3, s, s]}
                plan.append((f"sweep{s}-{v}", lambda v=v, s=s, sh=shapes: self.single(f"sweep{s}", a.sweep_model, v, sh),
                             [f"{a.sweep_model}__{v}"]))
        for v in a.variants:
            plan.append((f"partial-{v}", lambda v=v: self.single("partial", a.partial_model, v, vary=(a.partial_vary,)),
                         [f"{a.partial_model}__{v}"]))
        for v in a.variants:
            if v.startswith("key"):
                continue  # every input differs: nothing to name by key
            plan.append((f"unique-{v}", lambda v=v: self.single("unique", a.unique_model, v, {a.unique_vary: [1, 3, 224, 224]},
                                                                vary=(a.unique_vary,)),
                         [f"{a.unique_model}__{v}"]))
        if a.chain:
            for v in ("stock", "ort", "key", "keygraph"):
                if v in a.variants:
                    plan.append((f"chain-{v}", lambda v=v: self.chain(v), [f"{b}__{v}" for b in a.chain]))
        if a.jvm_warmup:
            plan[:0] = [(f"warmup-{v}", lambda v=v: self.warm(v, a.jvm_warmup), [f"{b}__{v}" for b in a.seed])
                        for v in a.variants]
        failed = 0
        for name, fn, models in plan:
            if not re.search(a.only, name):
                continue
            missing = [m for m in models if not self.has(m)]
            if missing:
                self.skip(name, f"model(s) not ready: {' '.join(missing)}")
                continue
            if a.deadline_s and time.time() - self.t_start > a.deadline_s:
                self.skip(name, f"past --deadline-s {a.deadline_s}")
                continue
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                failed += 1
                self.skip(name, f"failed: {e!r}"[:500])
        return 1 if failed else 0

    def skip(self, name, why):
        print(f"{name}: {why}", flush=True)
        self.out.write(json.dumps({"skipped": name, "why": why, "pass": self.a.pass_}) + "\n")
        self.out.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pass", dest="pass_", default="plain")
    ap.add_argument("--variants", default="stock,ort,key,content,keygraph,contentgraph")
    ap.add_argument("--seed", default="vit,bert,resnet50")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=100)
    ap.add_argument("--seed-warmup", type=int, default=100)
    ap.add_argument("--seed-lockstep", type=int, default=1, choices=(0, 1),
                    help="1: the seed's models start each cycle together (a barrier); 0: out of step")
    ap.add_argument("--seed-pause-us", type=float, default=0,
                    help="pause of each model's client after each measured seed answer")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--jvm-warmup", type=int, default=0,
                    help="requests to each seed model of every variant before anything is measured (warm-up)")
    ap.add_argument("--sweep-model", default="conv_tiny")
    ap.add_argument("--sweep-sizes", default="224,591,1024")
    ap.add_argument("--partial-model", default="two_input")
    ap.add_argument("--partial-vary", default="bias")
    ap.add_argument("--unique-model", default="conv_tiny")
    ap.add_argument("--unique-vary", default="input")
    ap.add_argument("--chain", default="vit_encoder,vit_head", help="encoder,head or empty")
    ap.add_argument("--chain-features", default="features", help="the encoder output the head reads")
    ap.add_argument("--only", default=".")
    ap.add_argument("--deadline-s", type=float, default=0)
    a = ap.parse_args()
    a.variants = a.variants.split(",")
    a.seed = a.seed.split(",")
    a.sweep_sizes = [int(x) for x in a.sweep_sizes.split(",") if x]
    a.chain = a.chain.split(",") if a.chain else None
    return Bench(a).run()


if __name__ == "__main__":
    sys.exit(main())
