# java_onnxruntime: the two commands a new user needs are `make demo` and `make test`.
MVN ?= mvn -B
PYTHON ?= /usr/bin/python3
BACKENDS := build/backends
BACKEND_DIR := $(BACKENDS)/java_onnxruntime

.PHONY: all build models backend demo test bench bench-gpu clean

all: build

# Example models, their config.pbtxt and reference data (Debian's python3-onnx, no download).
# One run makes both: the repository (ignored by git) and build/testdata (gone after make clean).
MODEL_OUTPUTS := model_repository/conv_net/1/model.onnx build/testdata.stamp
models: $(MODEL_OUTPUTS)
$(MODEL_OUTPUTS) &: model_repository/make_models.py
	$(PYTHON) model_repository/make_models.py --repo model_repository --testdata build/testdata
	touch build/testdata.stamp

# Shim, host, jars, and the backend directory Triton (or the host) loads.
build: models
	$(MVN) -DskipTests package
	triton-build/assemble.sh $(BACKEND_DIR)

# The seed's scenario through the host: 3 models x 100 identical requests, one request per model
# in flight, then per model latency and the input-cache figures.
demo: build
	./scripts/demo.sh

# Unit tests, the host's own contract tests (test backends in C), the backend through the host,
# then the backend in the real tritonserver of ../shared beside the stock one (test-triton), and
# the JVM's signals and the shutdown there (test-signals).
test: models
	$(MVN) verify
	$(MAKE) -C host check
	triton-build/assemble.sh $(BACKEND_DIR)
	$(PYTHON) tests/integration/run_local.py
	$(PYTHON) tests/signals/run.py
	$(PYTHON) deploy/test_deploy.py

# tests/integration in ../shared/tritonserver-2.70 (CPU build) over HTTP with tritonclient: one
# line and a pass where ../shared is absent, a failure then under CI=true. Logs: build/triton-tests.
.PHONY: test-triton
test-triton: build
	$(PYTHON) tests/integration/run_local.py

# The JVM's signals and the shutdown in the real tritonserver: the unchained shim dies under
# safepoint pressure, ours does not; then 20 starts x 2,000 requests per model under forced GCs,
# each ending with SIGTERM in flight or past the exit timeout (STARTS, REQUESTS to change).
.PHONY: test-signals
test-signals: build
	$(PYTHON) tests/signals/run.py

# deploy/: 3 real tritonservers behind nginx hashing on the key header; 300 keys, 3,000 keyed
# requests, then one server stopped (only its keys miss, resent with the data). Logs: build/deploy/run.
.PHONY: test-deploy
test-deploy: build
	$(PYTHON) deploy/test_deploy.py

bench: build
	./scripts/bench.sh

# 8 clients x 10,000 requests, 5% malformed, constant cache eviction; last line is the verdict.
stress: build
	python3 scripts/stress.py

# The same in the real tritonserver of ../shared over HTTP: 8 clients x 10,000 requests, 10%
# malformed (34 kinds), 100,000 named keys under a 128 KiB cache, a model unloaded and reloaded
# all along; last line is the verdict. QUICK=1: 2 clients x 500. Log: build/stress-triton.
.PHONY: stress-triton
stress-triton: build
	$(PYTHON) scripts/stress_triton.py

# The GPU benchmark bundle (build/bench-gpu/bundle, parts in .gpu/): see bench/gpu/README.md.
bench-gpu: build
	$(MAKE) -C host
	./scripts/bench-gpu.sh

clean:
	$(MVN) -q clean || true
	rm -rf build native/build host/build

# ---- Docker image (Dockerfile), integration tests, Dockerfile checks: see docs/triton-guide.md.
IMAGE ?= java-onnxruntime-triton:dev
TRITON_TAG ?= 26.06
DOCKER ?= docker
.PHONY: image serve-image integration lint-docker

# The NGC Triton image with the backend installed (needs a Docker engine; network for the build).
image:
	@triton-build/docker-check.sh "$(DOCKER)" "make image"
	DOCKER_BUILDKIT=1 $(DOCKER) build --build-arg TRITON_TAG=$(TRITON_TAG) -t $(IMAGE) .

# Serves the KIND_GPU example models on ports 8000 (HTTP), 8001 (gRPC) and 8002 (metrics).
serve-image:
	@triton-build/docker-check.sh "$(DOCKER)" "make serve-image"
	$(DOCKER) run --rm -it --gpus all --shm-size=1g -p 8000:8000 -p 8001:8001 -p 8002:8002 \
	  $(IMAGE) tritonserver --model-repository=/opt/java_onnxruntime/models-gpu

# tests/integration through tritonclient (HTTP and gRPC) against the image, KIND_GPU then KIND_CPU.
integration: image
	tests/integration/run.sh "$(IMAGE)"

# Static checks of the Dockerfile: a linter from npm (dockerfile-utils), and every COPY source.
lint-docker:
	scripts/check-dockerfile.sh
