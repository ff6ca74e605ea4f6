"""The deployment of deploy/ tested: 3 real tritonservers behind nginx hashing on the key header
(``make test-deploy``, part of ``make test``).

1. 300 keys stored through nginx (input-cache-key-image header, with the image), then 3,000
   requests naming them without the image: 0 misses, every answer right, each key always on the
   replica that stored it; the replicas' /metrics (entries, hits) agree with where nginx sent them.
2. Content mode (two_input_content) behind plain round robin: every answer right, each replica
   hashing and keeping its own copy; with the client's content hash in X-Content-Hash, each
   content lives on one replica (misses = distinct contents).
3. One replica stopped: 3,000 requests again. Only the keys it held miss (404), each miss is
   resent with the data and succeeds, the other keys stay where they were, and nginx routes
   around the stopped replica (no answer from it, no 502).

Needs ../shared/tritonserver-2.70 and /usr/sbin/nginx (nginx-light); without them one line and
exit 0, a failure under CI=true. Logs and the generated nginx.conf: build/deploy/run/. Last line:
``deploy: passed`` or ``deploy: FAILED: ...``.

    /usr/bin/python3 deploy/test_deploy.py [--keys 300] [--requests 3000]
"""

import argparse
import hashlib
import http.client
import json
import os
import queue
import re
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster  # noqa: E402

ROOT = cluster.ROOT
WORK = os.path.join(ROOT, "build", "deploy", "run")
KEY_HEADER = "input-cache-key-image"
THREADS = 4
HOW = "make test-deploy (with ../shared/tritonserver-2.70 beside the checkout and nginx-light installed)"
MISS = "no cached tensor under key"


class Failed(Exception):
    pass


def check(ok, what):
    if not ok:
        raise Failed(what)


def image(seed):
    return np.random.RandomState(seed).rand(1, 3, 224, 224).astype(np.float32)


class Client:
    """One keep-alive HTTP connection (to nginx or a server) sending two_input requests with the
    binary tensor extension. Not thread-safe: one per thread."""

    def __init__(self, url):
        host, port = url.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def infer(self, model, bias, data=None, headers=None):
        """(status, out as float32 array or the error text, X-Upstream-Addr)."""
        inputs, tail = [], b""
        if data is not None:
            inputs.append({"name": "image", "shape": list(data.shape), "datatype": "FP32",
                           "parameters": {"binary_data_size": data.nbytes}})
            tail = data.tobytes()
        inputs.append({"name": "bias", "shape": [1, 4], "datatype": "FP32", "data": [bias, 0, 0, 0]})
        head = json.dumps({"inputs": inputs,
                           "outputs": [{"name": "out", "parameters": {"binary_data": False}}]}).encode()
        h = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(head))}
        h.update(headers or {})
        for attempt in range(2):  # a keep-alive connection the peer closed: reconnect once
            try:
                self.conn.request("POST", "/v2/models/%s/infer" % model, body=head + tail, headers=h)
                r = self.conn.getresponse()
                body = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
        upstream = r.getheader("X-Upstream-Addr", "")
        if r.status != 200:
            return r.status, body.decode(errors="replace"), upstream
        out = json.loads(body)["outputs"][0]["data"]
        return 200, np.array(out, dtype=np.float32), upstream

    def close(self):
        self.conn.close()


def expect(y, bias):
    """What two_input answers for an image whose bias-free output is y: y + [bias, 0, 0, 0] in FP32."""
    return y + np.array([bias, 0, 0, 0], dtype=np.float32)


def last_upstream(addrs):
    return addrs.split(",")[-1].strip() if addrs else ""


def run_parallel(url, jobs, work):
    """Runs work(client, job) for every job on THREADS threads; returns the results in job order.
    An exception in a thread is raised here."""
    results = [None] * len(jobs)
    q = queue.Queue()
    for i, j in enumerate(jobs):
        q.put((i, j))
    errors = []

    def worker():
        c = Client(url)
        try:
            while not errors:
                try:
                    i, j = q.get_nowait()
                except queue.Empty:
                    return
                results[i] = work(c, j)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    check(not any(t.is_alive() for t in threads), "a client thread still runs after 600 s")
    if errors:
        raise errors[0]
    return results


def scrape(metrics_url):
    """{(metric name, model or "", device): value} of the java_onnxruntime_input_cache_* series."""
    conn = http.client.HTTPConnection(metrics_url, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(java_onnxruntime_input_cache_\w+)\{([^}]*)\}\s+(\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            out[(m.group(1), labels.get("model", ""))] = out.get((m.group(1), labels.get("model", "")), 0) \
                + float(m.group(3))
    return out


def metric(values, name, model=""):
    return values.get(("java_onnxruntime_input_cache_" + name, model), 0.0)


def table(c, names, stored):
    """Prints and returns the per-replica cache figures."""
    rows = []
    print("deploy: %-8s %-16s %6s %7s %7s %7s %9s %9s" % (
        "replica", "address", "keys", "entries", "hits", "misses", "c.hits", "c.misses"))
    for i, s in enumerate(c.servers):
        if not s.running():
            print("deploy: %-8s %-16s (stopped)" % (names[s.http_url], s.http_url))
            rows.append(None)
            continue
        v = scrape(s.metrics_url)
        row = {"entries": metric(v, "entries"), "hits": metric(v, "hits_total", "two_input"),
               "misses": metric(v, "misses_total", "two_input"),
               "c_hits": metric(v, "hits_total", "two_input_content"),
               "c_misses": metric(v, "misses_total", "two_input_content")}
        rows.append(row)
        print("deploy: %-8s %-16s %6d %7d %7d %7d %9d %9d" % (
            names[s.http_url], s.http_url, stored.get(s.http_url, 0), row["entries"], row["hits"],
            row["misses"], row["c_hits"], row["c_misses"]))
    return rows


def scenario(c, keys, requests):
    names = {s.http_url: "r%d" % i for i, s in enumerate(c.servers)}
    rng = np.random.RandomState(7)

    # 1. Store: every key with its image, through nginx.
    def store(cl, k):
        status, out, up = cl.infer("two_input", 0.0, image(k), {KEY_HEADER: "key-%d" % k})
        check(status == 200, "store of key-%d: %s %s" % (k, status, out))
        return out, last_upstream(up)

    stored = run_parallel(c.url, list(range(keys)), store)
    y = [s[0] for s in stored]
    home = [s[1] for s in stored]
    held = {s.http_url: [k for k in range(keys) if home[k] == s.http_url] for s in c.servers}
    print("deploy: stored %d keys through nginx: %s" % (
        keys, ", ".join("%s %d" % (names[u], len(held[u])) for u in held)))
    check(all(held[u] for u in held), "a replica got no key: %s" % {names[u]: len(held[u]) for u in held})

    # 1b. References: the key only (header), a bias that differs per request.
    plan = [(int(rng.randint(keys)), float(i % 97) / 8) for i in range(requests)]

    def reference(cl, job):
        k, bias = job
        status, out, up = cl.infer("two_input", bias, None, {KEY_HEADER: "key-%d" % k})
        return k, bias, status, out, last_upstream(up)

    res = run_parallel(c.url, plan, reference)
    misses = [r for r in res if r[2] != 200]
    check(not misses, "%d of %d keyed requests failed, first: %s" % (len(misses), requests, misses[:1]))
    wrong = [r for r in res if not np.array_equal(r[3], expect(y[r[0]], r[1]))]
    check(not wrong, "%d answers differ from the stored image's, first key-%d" % (len(wrong), wrong[0][0]) if wrong else "")
    moved = [r for r in res if r[4] != home[r[0]]]
    check(not moved, "%d requests reached another replica than their key's" % len(moved))
    print("deploy: %d keyed requests without the image through nginx: 0 misses, every answer right,"
          " each on its key's replica" % requests)
    sent = {u: sum(1 for r in res if r[4] == u) for u in held}
    rows = table(c, names, {u: len(held[u]) for u in held})
    for s, row in zip(c.servers, rows):
        check(row["entries"] == len(held[s.http_url]),
              "%s holds %d entries, nginx stored %d keys there" % (names[s.http_url], row["entries"], len(held[s.http_url])))
        check(row["hits"] == sent[s.http_url],
              "%s counts %d hits, nginx sent it %d references" % (names[s.http_url], row["hits"], sent[s.http_url]))

    # 1c. The header spellings and which wins, on one replica directly and through nginx.
    spellings(c)

    # 2. Content mode: no key. Round robin (no header), then the client's hash in X-Content-Hash.
    content(c, names)

    # 3. One replica stops (the one holding the most keys; any would do).
    gone = max(held, key=lambda u: len(held[u]))
    victim = next(s for s in c.servers if s.http_url == gone)
    code = victim.stop(timeout=60)
    why = (" (nginx's idle keep-alive connections outlived --exit-timeout-secs=5)"
           if code == 1 and "Exit timeout expired" in victim.log() else "")
    print("deploy: stopped %s (%s), which held %d of %d keys (%.0f%%); exit code %s%s" % (
        names[gone], gone, len(held[gone]), keys, 100.0 * len(held[gone]) / keys, code, why))
    check(0.15 <= len(held[gone]) / keys <= 0.6, "the stopped replica held %d of %d keys" % (len(held[gone]), keys))

    def after(cl, job):
        k, bias = job
        status, out, up = cl.infer("two_input", bias, None, {KEY_HEADER: "key-%d" % k})
        missed = False
        tried = up
        if status == 404 and MISS in out:
            missed = True
            status, out, up = cl.infer("two_input", bias, image(k), {KEY_HEADER: "key-%d" % k})
            tried += ", " + up
        return k, bias, status, out, last_upstream(up), missed, tried

    res = run_parallel(c.url, plan, after)
    bad = [r for r in res if r[2] != 200]
    check(not bad, "%d requests failed after the stop (after a resend for misses), first: %s" % (len(bad), bad[:1]))
    wrong = [r for r in res if not np.array_equal(r[3], expect(y[r[0]], r[1]))]
    check(not wrong, "%d answers wrong after the stop" % len(wrong))
    missed_keys = {r[0] for r in res if r[5]}
    referenced = {r[0] for r in res}
    check(missed_keys == set(held[gone]) & referenced,
          "the keys that missed are not those the stopped replica held: %d missed, %d held there, %d both"
          % (len(missed_keys), len(held[gone]), len(missed_keys & set(held[gone]))))
    answered_by_gone = [r for r in res if r[4] == gone]
    check(not answered_by_gone, "%d answers came from the stopped replica" % len(answered_by_gone))
    stayed = [r for r in res if r[0] not in held[gone] and r[4] != home[r[0]]]
    check(not stayed, "%d requests for keys of a live replica went elsewhere" % len(stayed))
    tried_gone = sum(1 for r in res if gone in r[6])
    check(tried_gone >= 1, "nginx never tried the stopped replica (it should have, once, then routed around it)")
    resends = sum(1 for r in res if r[5])
    new_home = {}
    for r in res:
        if r[5]:
            new_home.setdefault(r[4], set()).add(r[0])
    print("deploy: after the stop, %d requests: %d misses, all of keys %s held (%d of its %d keys were"
          " referenced), each resent with the data and answered right; keys of the other replicas"
          " stayed put; nginx tried %s on %d request(s), then routed around it; the moved keys now on %s"
          % (requests, resends, names[gone], len(missed_keys), len(held[gone]), names[gone], tried_gone,
             ", ".join("%s %d" % (names[u], len(v)) for u, v in sorted(new_home.items()))))
    table(c, names, {u: len(held[u]) + len(new_home.get(u, ())) for u in held if u != gone})
    check(resends <= len(missed_keys) * THREADS,
          "%d misses for %d keys: a resent key kept missing" % (resends, len(missed_keys)))


def spellings(c):
    """A key named in the body or in a forwarded header has the same effect; a header wins over
    the body (Triton appends forwarded headers after the body's parameters, the backend keeps the
    last); a miss is 404 with its own message, other mistakes of a keyed request are 400, and an
    unknown model is Triton's 404 with another message."""
    data = image(30000)
    direct = Client(c.servers[0].http_url)
    via = Client(c.url)
    try:
        status, y, _ = direct.infer("two_input", 0.0, data, {"input_cache_key.image": "h-dot"})
        check(status == 200, "store under the header input_cache_key.image: %s %s" % (status, y))
        for name in ("input_cache_key.image", "input-cache-key-image", "Input-Cache-Key-image"):
            status, out, _ = direct.infer("two_input", 1.0, None, {name: "h-dot"})
            check(status == 200 and np.array_equal(out, expect(y, 1.0)),
                  "reference by the header %s: %s %s" % (name, status, out))
        # The input's name is matched exactly (a proxy lower-casing header names cannot name "Image").
        status, out, _ = direct.infer("two_input", 1.0, None, {"input-cache-key-Image": "h-dot"})
        check(status == 400 and "does not have" in out, "input-cache-key-Image: %s %s" % (status, out))
        # The body parameter reaches the same entry (body and header are one parameter to the backend).
        status, out, _ = body_infer(direct, {"input_cache_key.image": "h-dot"})
        check(status == 200 and np.array_equal(out, expect(y, 0.5)), "reference by the body: %s %s" % (status, out))
        status, out, _ = body_infer(direct, {"input_cache_key.image": "never-stored"}, {KEY_HEADER: "h-dot"})
        check(status == 200 and np.array_equal(out, expect(y, 0.5)),
              "body names an unknown key, the header the stored one: %s %s (the header should win)" % (status, out))
        status, out, _ = body_infer(direct, {"input_cache_key.image": "h-dot"}, {KEY_HEADER: "never-stored"})
        check(status == 404 and MISS in out and "never-stored" in out,
              "body names the stored key, the header an unknown one: %s %s (the header should win)" % (status, out))
        print("deploy: the key by body parameter, header input_cache_key.image, input-cache-key-image or"
              " Input-Cache-Key-image reaches one entry; with both, the header wins")
        # Statuses a keyed request can get.
        status, out, _ = direct.infer("two_input", 0.0, None, {KEY_HEADER: "never-stored"})
        check(status == 404 and MISS in out and "resend the data" in out, "a miss: %s %s" % (status, out))
        miss = status
        status, out, _ = direct.infer("two_input", 0.0, None, {KEY_HEADER: "k" * 257})
        check(status == 400, "a key of 257 bytes: %s %s" % (status, out))
        too_long = status
        status, out, _ = direct.infer("two_input", 0.0, None, {"x-input-cache-key-image": "h-dot"})
        check(status == 400 and "missing input 'image'" in out,
              "a header the forward pattern does not match: %s %s" % (status, out))
        no_key = status
        status, out, _ = direct.infer("no_such_model", 0.0, None, {KEY_HEADER: "h-dot"})
        check(status == 404 and MISS not in out, "an unknown model: %s %s" % (status, out))
        print("deploy: statuses: a miss %d (\"...%s...; resend the data with the same key\"), a key over"
              " 256 bytes %d, no key and no data %d, an unknown model %d (Triton's, another message)"
              % (miss, MISS, too_long, no_key, status))
        # nginx drops a header with a '.' in its name (ignore_invalid_headers on, its default).
        status, out, _ = via.infer("two_input", 0.0, None, {"input_cache_key.image": "h-dot"})
        check(status == 400 and "missing input 'image'" in out,
              "through nginx, the header input_cache_key.image should be dropped: %s %s" % (status, out))
        print("deploy: through nginx the header input_cache_key.image is dropped (a '.' is invalid to"
              " nginx): use input-cache-key-image")
    finally:
        direct.close()
        via.close()


def body_infer(client, params, headers=None):
    """two_input with the key in the request's body parameters (JSON, no image, bias 0.5)."""
    body = json.dumps({"parameters": params,
                       "inputs": [{"name": "bias", "shape": [1, 4], "datatype": "FP32", "data": [0.5, 0, 0, 0]}],
                       "outputs": [{"name": "out", "parameters": {"binary_data": False}}]}).encode()
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    client.conn.request("POST", "/v2/models/two_input/infer", body=body, headers=h)
    r = client.conn.getresponse()
    data = r.read()
    if r.status != 200:
        return r.status, data.decode(errors="replace"), ""
    return 200, np.array(json.loads(data)["outputs"][0]["data"], dtype=np.float32), ""


def content(c, names):
    """two_input_content behind round robin, then routed by a content hash the client computes."""
    direct = Client(c.servers[0].http_url)
    try:
        def ref(seed):
            status, out, _ = direct.infer("two_input", 0.0, image(seed))
            check(status == 200, "reference for image %d: %s %s" % (seed, status, out))
            return out
        rr_images = list(range(10000, 10010))
        hashed_images = list(range(20000, 20010))
        want = {s: ref(s) for s in rr_images + hashed_images}
    finally:
        direct.close()
    before = {s.http_url: scrape(s.metrics_url) for s in c.servers}

    def misses_by_replica():
        out = {}
        for s in c.servers:
            v = scrape(s.metrics_url)
            out[s.http_url] = (metric(v, "misses_total", "two_input_content")
                               - metric(before[s.http_url], "misses_total", "two_input_content"))
        return out

    cl = Client(c.url)
    try:
        seen = {}
        for rep in range(6):
            for s in rr_images:
                status, out, up = cl.infer("two_input_content", 0.0, image(s))
                check(status == 200 and np.array_equal(out, want[s]),
                      "content mode behind round robin: image %d answered %s %s" % (s, status, out))
                seen.setdefault(s, set()).add(last_upstream(up))
        rr = misses_by_replica()
        spread = sum(len(v) for v in seen.values())
        print("deploy: content mode behind round robin: 60 requests (10 images x 6), every answer right;"
              " each image reached %.1f replicas on average; misses per replica %s (total %d: each"
              " replica hashed and stored its own copy)" % (
                  spread / len(seen), {names[u]: int(v) for u, v in rr.items()}, sum(rr.values())))
        check(sum(rr.values()) == spread, "round robin: %d misses for %d (image, replica) pairs" % (sum(rr.values()), spread))
        check(spread > len(rr_images), "round robin sent each image to one replica only")
        for s in c.servers:
            before[s.http_url] = scrape(s.metrics_url)
        seen = {}
        for rep in range(6):
            for s in hashed_images:
                data = image(s)
                digest = hashlib.sha256(data.tobytes()).hexdigest()[:32]
                status, out, up = cl.infer("two_input_content", 0.0, data, {"X-Content-Hash": digest})
                check(status == 200 and np.array_equal(out, want[s]),
                      "content mode hashed on X-Content-Hash: image %d answered %s" % (s, status))
                seen.setdefault(s, set()).add(last_upstream(up))
        hashed = misses_by_replica()
        print("deploy: content mode with the client's content hash in X-Content-Hash: 60 requests,"
              " every answer right; each image on 1 replica; misses per replica %s (total %d = the"
              " distinct images)" % ({names[u]: int(v) for u, v in hashed.items()}, sum(hashed.values())))
        check(all(len(v) == 1 for v in seen.values()), "a hashed image reached two replicas")
        check(sum(hashed.values()) == len(hashed_images),
              "hashed on content: %d misses for %d images" % (sum(hashed.values()), len(hashed_images)))
    finally:
        cl.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--requests", type=int, default=3000)
    opts = parser.parse_args()
    if cluster.local_server.find_server(ROOT) is None:
        return cluster.local_server.absent(
            "deploy", "no %s" % os.path.join(cluster.local_server.shared_dir(ROOT), "cpu", "bin", "tritonserver"), HOW)
    if cluster.find_nginx() is None:
        return cluster.local_server.absent("deploy", "no %s (Debian's nginx-light)" % cluster.NGINX, HOW)
    if not os.path.isfile(os.path.join(ROOT, "model_repository", "two_input", "1", "model.onnx")):
        print("deploy: FAILED: no example models: run make models", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    c = cluster.Cluster(ROOT, opts.servers, WORK)
    result = "passed"
    try:
        c.start()
        print("deploy: %d tritonservers and nginx on %s (config %s)" % (
            opts.servers, c.url, os.path.join(WORK, "nginx.conf")), flush=True)
        scenario(c, opts.keys, opts.requests)
    except Failed as e:
        result = "FAILED: %s" % e
    finally:
        alive = [i for i, s in enumerate(c.servers) if s.running()]
        codes = c.stop()
    bad = {i: codes[i] for i in alive if codes.get(i) != 0}
    if result == "passed" and bad:
        result = "FAILED: servers exited with %s on SIGTERM" % bad
    if result != "passed":
        for i, s in enumerate(c.servers):
            print("---- tail of %s" % s.log_path)
            print("".join(s.log().splitlines(True)[-30:]))
        print("---- nginx\n" + c.nginx_errors()[-2000:])
    print("deploy: %s (%.0f s; logs in %s)" % (result, time.monotonic() - t0, WORK))
    return 0 if result == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
