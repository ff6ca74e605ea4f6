# java_onnxruntime: the two commands a new user needs are `make demo` and `make test`.
MVN ?= mvn -B
PYTHON ?= /usr/bin/python3
BACKENDS := build/backends
BACKEND_DIR := $(BACKENDS)/java_onnxruntime

.PHONY: all build models backend demo test bench bench-gpu clean

all: build

# Example models, their config.pbtxt and reference data (Debian's python3-onnx, no download).
models: model_repository/conv_net/1/model.onnx
model_repository/conv_net/1/model.onnx: model_repository/make_models.py
	$(PYTHON) model_repository/make_models.py --repo model_repository --testdata build/testdata

# Shim, host, jars, and the backend directory Triton (or the host) loads.
build: models
	$(MVN) -DskipTests package
	triton-build/assemble.sh $(BACKEND_DIR)

# The seed's scenario through the host: 3 models x 100 identical requests, one request per model
# in flight, then per model latency and the input-cache figures.
demo: build
	./scripts/demo.sh

# Unit tests, the host's own contract tests (test backends in C), and the backend through the host.
test: models
	$(MVN) verify
	$(MAKE) -C host check

bench: build
	./scripts/bench.sh

# 8 clients x 10,000 requests, 5% malformed, constant cache eviction; last line is the verdict.
stress: build
	python3 scripts/stress.py

# The GPU benchmark bundle (build/bench-gpu/bundle, parts in .gpu/): see bench/gpu/README.md.
bench-gpu: build
	$(MAKE) -C host
	./scripts/bench-gpu.sh

clean:
	$(MVN) -q clean || true
	rm -rf build native/build host/build
