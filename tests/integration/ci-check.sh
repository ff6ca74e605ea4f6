#!/usr/bin/env bash
# What CI can check of tests/integration without Docker or a GPU: every file compiles, and the
# client-side helpers (reference data, tolerances, metrics parsing, waiting for a server that is
# not there) pass their offline tests. test_server.py runs in the real tritonserver within make
# test (run_local.py), not here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}
cd "$here"
# Byte-compile into a throwaway directory: syntax errors fail, the tree stays clean.
"$python" - "$here"/*.py <<'EOF'
import py_compile, sys, tempfile, os
with tempfile.TemporaryDirectory() as d:
    for f in sys.argv[1:]:
        py_compile.compile(f, cfile=os.path.join(d, os.path.basename(f) + "c"), doraise=True)
print("integration: %d Python files compile" % (len(sys.argv) - 1))
EOF
bash -n run.sh
echo "integration: NOT RUN here: test_server.py against the image (KIND_GPU models, gRPC) needs"
echo "  Docker and a GPU: make integration. The KIND_CPU models over HTTP in the real tritonserver"
echo "  ran within make test (make test-triton)."
"$python" - <<'EOF'
import sys, unittest
suite = unittest.defaultTestLoader.loadTestsFromName("test_helpers")
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
failed = len(result.failures) + len(result.errors)
passed = result.testsRun - failed - len(result.skipped)
print("integration-helpers: %d passed, %d failed, %d skipped" % (passed, failed, len(result.skipped)))
sys.exit(1 if failed else 0)
EOF
