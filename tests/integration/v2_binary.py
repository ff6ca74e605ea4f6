"""KServe v2 inference requests with Triton's binary tensor extension, standard library only.

    body, headers = request({"input": ("FP32", [1, 3, 224, 224], data)}, ["logits"])
    conn.request("POST", "/v2/models/conv_net/infer", body, headers)
    r = conn.getresponse(); outputs = response(r.read(), r.getheader(HEADER_LENGTH))

Used by the signal stress test (tests/signals) and the real-server benchmarks (bench/triton).
"""

import array
import json

HEADER_LENGTH = "Inference-Header-Content-Length"


def tensor(dtype, shape, seed=0):
    """Deterministic bytes of an FP32 (small positive values) or INT64 (0..999) tensor."""
    count = 1
    for d in shape:
        count *= d
    if dtype == "FP32":
        return array.array("f", (((seed + i) % 97) / 97.0 for i in range(count))).tobytes()
    if dtype == "INT64":
        return array.array("q", ((seed + i) % 1000 for i in range(count))).tobytes()
    raise ValueError("tensor(): FP32 or INT64, not %s" % dtype)


def request(inputs, outputs, parameters=None, keep_alive=True):
    """(body, headers) of an infer request: inputs maps name -> (dtype, shape, bytes or None); None
    sends no data (an input resolved by a cache key parameter). Outputs come back binary."""
    tensors, data = [], []
    for name, (dtype, shape, payload) in inputs.items():
        t = {"name": name, "shape": list(shape), "datatype": dtype}
        if payload is not None:
            t["parameters"] = {"binary_data_size": len(payload)}
            data.append(payload)
        tensors.append(t)
    header = {"inputs": tensors,
              "outputs": [{"name": o, "parameters": {"binary_data": True}} for o in outputs]}
    if parameters:
        header["parameters"] = parameters
    head = json.dumps(header).encode()
    headers = {HEADER_LENGTH: str(len(head)), "Content-Type": "application/octet-stream"}
    if not keep_alive:
        headers["Connection"] = "close"
    return head + b"".join(data), headers


def response(body, header_length):
    """{output name: bytes} of a successful response (its JSON header, then the binary data)."""
    length = int(header_length) if header_length is not None else len(body)
    header = json.loads(body[:length])
    outputs, offset = {}, length
    for o in header.get("outputs", []):
        size = o.get("parameters", {}).get("binary_data_size")
        if size is None:
            outputs[o["name"]] = json.dumps(o.get("data")).encode()
            continue
        outputs[o["name"]] = body[offset:offset + size]
        offset += size
    return outputs
