"""Writes Triton's model_config.proto, as the serialized FileDescriptorProto that the real
libtritonserver.so carries (protoc's generated code embeds it), into a C array for
host/src/model_config_proto.cc. The host then reads config.pbtxt with that very schema; no copy
of Triton's .proto lives in this repository.

usage: model_config_proto.py LIBTRITONSERVER_SO OUT.inc
"""
import sys

# The descriptor begins with its file name and package (fields 1 and 2) and, protoc writing
# fields in order, ends with `syntax: "proto3"` (field 12).
START = b"\n\x12model_config.proto\x12\tinference"
END = b"b\x06proto3"


def main(lib, out):
    data = open(lib, "rb").read()
    start = data.find(START)
    end = data.find(END, start)
    if start < 0 or end < 0 or data.count(START) != 1:
        sys.exit(f"{lib}: no single descriptor of model_config.proto in it")
    blob = data[start:end + len(END)]
    rows = (", ".join(str(b) for b in blob[i:i + 24]) for i in range(0, len(blob), 24))
    with open(out, "w") as f:
        f.write(f"/* model_config.proto's descriptor, from {lib} */\n")
        f.write(",\n".join(rows) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
