#!/usr/bin/env bash
# Self-tests of the in-process Triton host (run by `make -C host check`).
#
# Drives host/build/triton-host over the model repository in host/test/models with the test
# backends (identity: well-behaved; rogue: one contract breach per model, chosen by the
# "behaviour" parameter) and checks stdout line by line and the exit code (0 / 1 / 2).
# Expected texts for front-end rejections are Triton 2.70's (shared/fixtures/triton-2.70).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${BUILD:-$HERE/../build}"
EXE="$BUILD/triton-host"
BACKENDS="$BUILD/backends"
MODELS="$HERE/models"
REQ="$HERE/requests"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0

fail() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}

# run NAME EXPECTED_RC COMMAND ARGS... : runs triton-host COMMAND with the test backends.
run() {
  local name="$1" expected="$2" cmd="$3"
  shift 3
  CASE="$name"
  timeout 120 "$EXE" "$cmd" --backend-directory "$BACKENDS" "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  if [[ "$RC" != "$expected" ]]; then
    fail "$name: exit status $RC, expected $expected"
    sed 's/^/    stderr: /' "$TMP/err" | tail -20 >&2
    return 1
  fi
  passed=$((passed + 1))
  return 0
}

# expect_line N TEXT : line N (1-based) of stdout is exactly TEXT.
expect_line() {
  local got
  got="$(sed -n "${1}p" "$TMP/out")"
  if [[ "$got" != "$2" ]]; then
    fail "$CASE: stdout line $1"
    echo "    expected: $2" >&2
    echo "    got:      $got" >&2
  else
    passed=$((passed + 1))
  fi
}

# expect_prefix N TEXT : line N (1-based) of stdout starts with TEXT.
expect_prefix() {
  local got
  got="$(sed -n "${1}p" "$TMP/out")"
  if [[ "$got" != "$2"* ]]; then
    fail "$CASE: stdout line $1"
    echo "    expected: $2..." >&2
    echo "    got:      $got" >&2
  else
    passed=$((passed + 1))
  fi
}

expect_lines() {
  local n
  n="$(wc -l <"$TMP/out")"
  [[ "$n" == "$1" ]] && passed=$((passed + 1)) || fail "$CASE: $n stdout lines, expected $1"
}

expect_err() {
  grep -qF -- "$1" "$TMP/err" && passed=$((passed + 1)) || fail "$CASE: stderr lacks: $1"
}

expect_no_err() {
  grep -qF -- "$1" "$TMP/err" && fail "$CASE: stderr has: $1" || passed=$((passed + 1))
}

expect_file() { # FILE TEXT : FILE contains TEXT
  grep -qF -- "$2" "$1" && passed=$((passed + 1)) || fail "$CASE: $1 lacks: $2"
}

infer_basic() { run "$1" "$2" infer --model-repository "$MODELS" --model m_basic "${@:3}"; }

# ---------------------------------------------------------------- identity, m_basic
infer_basic "m_basic front-end checks" 1 \
  --request "$REQ/json_full.json" --request "$REQ/optional_input1_omitted.json" \
  --request "$REQ/bad_datatype.json" --request "$REQ/bad_shape.json" \
  --request "$REQ/bad_data_count.json" --request "$REQ/batch_too_big.json" \
  --request "$REQ/unknown_input.json" --request "$REQ/unknown_output.json" \
  --request "$REQ/missing_required_input0.json" --request "$REQ/reserved_param.json" \
  --request "$REQ/batch2_nested.json"
expect_lines 11
expect_line 1 '{"id":"req-json-full","model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]},{"name":"OUTPUT1","datatype":"INT64","shape":[1,3],"data":[10,20,30]}]}'
expect_line 2 '{"model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}'
expect_line 3 '{"error":"[request id: <id_unknown>] inference input '\''INPUT0'\'' data-type is '\''INT32'\'', but model '\''m_basic'\'' expects '\''FP32'\''"}'
expect_line 4 '{"error":"[request id: <id_unknown>] unexpected shape for input '\''INPUT0'\'' for model '\''m_basic'\''. Expected [-1,4], got [1,5]. NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. See the model configuration docs for more info on max_batch_size."}'
expect_line 5 '{"error":"Failed to parse '\''data'\'' field: shape does not match true shape"}'
expect_line 6 '{"error":"[request id: <id_unknown>] inference request batch-size must be <= 8 for '\''m_basic'\''"}'
expect_line 7 '{"error":"unexpected inference input '\''INPUT9'\'' for model '\''m_basic'\''"}'
expect_line 8 '{"error":"unexpected inference output '\''OUTPUT9'\'' for model '\''m_basic'\''"}'
expect_line 9 '{"model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT1","datatype":"INT64","shape":[1,3],"data":[1,2,3]}]}'
expect_line 10 '{"error":"parameter keys starting with '\''triton_'\'' are reserved for Triton usage and should not be specified."}'
expect_line 11 '{"id":"b2","model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[2,4],"data":[0.5,1.5,-2.25,3000,0.100000001,0,9.99999994e-09,-0]}]}'
expect_no_err "contract breach"

infer_basic "m_basic all good, split inputs" 0 --input-chunks 3 \
  --request "$REQ/json_full.json" --request "$REQ/batch2_nested.json"
expect_line 1 '{"id":"req-json-full","model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]},{"name":"OUTPUT1","datatype":"INT64","shape":[1,3],"data":[10,20,30]}]}'
expect_no_err "V1"  # no verbose lines without --log-verbose

# 16 concurrent requests: the dynamic batcher (max 8, 20 ms) forms batches; stats and metrics.
infer_basic "m_basic dynamic batching" 0 --request "$REQ/c4.json" --repeat 16 \
  --concurrency 16 --stats "$TMP/stats.json" --metrics "$TMP/metrics.txt" --log-verbose
expect_line 1 '{"model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[4,4,4,4]}]}'
expect_err "V1"
expect_no_err "data not formatted"
python3 - "$TMP/stats.json" <<'EOF' && passed=$((passed + 1)) || fail "m_basic dynamic batching: stats"
import json, sys
s = json.load(open(sys.argv[1]))["m_basic"]
hist = {int(k): v for k, v in s["execute_requests_histogram"].items()}
assert sum(k * v for k, v in hist.items()) == 16, hist
assert max(hist) <= 8 and max(hist) > 1, hist
assert s["reported"]["success_count"] == 16, s["reported"]
assert sum(i["requests"] for i in s["instances"]) == 16
assert [i["name"] for i in s["instances"]] == ["m_basic_0_0", "m_basic_0_1"]
EOF
expect_file "$TMP/metrics.txt" '# TYPE identity_requests_total counter'
expect_file "$TMP/metrics.txt" 'identity_requests_total{model="m_basic"} 16'
expect_file "$TMP/metrics.txt" '# TYPE identity_last_batch_requests gauge'

# Unload while the clients still send (--unload-after): nothing lost, later requests refused.
infer_basic "m_basic unload while busy" 1 --request "$REQ/json_full.json" --repeat 200 \
  --concurrency 4 --unload-after 20
expect_lines 1
expect_line 1 '{"error":"model '\''m_basic'\'' is unloading and accepts no new requests"}'
expect_err "infer: unloading the models after"
expect_err "infer: sent 200, answered 200,"
expect_no_err "contract breach"

# ---------------------------------------------------------------- other identity models
run "m_nobatch FP16" 1 infer --model-repository "$MODELS" --model m_nobatch \
  --request "$REQ/fp16_json.json" --request "$REQ/fp16_raw.json"
expect_line 1 '{"error":"receiving FP16 data via JSON is not supported. Please use the binary data format for input INPUT0"}'
expect_line 2 '{"model_name":"m_nobatch","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP16","shape":[2,3],"data":[1,2,3,4,5,6]}]}'

run "m_nobatch FP16 JSON without front-end checks" 0 infer --model-repository "$MODELS" \
  --model m_nobatch --request "$REQ/fp16_json.json" --no-frontend-checks
expect_line 1 '{"model_name":"m_nobatch","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP16","shape":[2,3],"data":[1,2,3,4,5,6]}]}'

run "m_types datatypes, parameters, backend config" 0 infer --model-repository "$MODELS" \
  --model m_types --request "$REQ/types.json" \
  --backend-config foo=global --backend-config identity,foo=specific \
  --backend-config other,foo=ignored --backend-config default-max-batch-size=8
expect_line 1 '{"id":"types","model_name":"m_types","model_version":"1","parameters":{"backend_config":"{\"cmdline\":{\"auto-complete-config\":\"true\",\"backend-directory\":\"'"$(cd "$BACKENDS" && pwd -P)"'\",\"default-max-batch-size\":\"8\",\"foo\":\"specific\",\"min-compute-capability\":\"7.500000\"}}","param.s":"STRING:x","param.i":"INT:9007199254740993","param.b":"BOOL:false","param.d":"DOUBLE:0.25"},"outputs":[{"name":"B_OUT","datatype":"BOOL","shape":[2],"data":[true,false]},{"name":"S_OUT","datatype":"BYTES","shape":[2],"data":["hello","é\"q"]},{"name":"I8_OUT","datatype":"INT8","shape":[2],"data":[-128,127]},{"name":"U64_OUT","datatype":"UINT64","shape":[2],"data":[18446744073709551615,0]},{"name":"I64_OUT","datatype":"INT64","shape":[2],"data":[9007199254740993,-9223372036854775808]},{"name":"F64_OUT","datatype":"FP64","shape":[2],"data":[0.10000000000000001,-1.0000000000000001e+300]},{"name":"BF_OUT","datatype":"BF16","shape":[2],"data":[1.5,-2]}]}'

run "m_autocomplete ModelSetConfig" 0 infer --model-repository "$MODELS" \
  --model m_autocomplete --request "$REQ/ac_input.json"
expect_line 1 '{"model_name":"m_autocomplete","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}'

run "m_autocomplete disabled" 1 infer --model-repository "$MODELS" \
  --model m_autocomplete --request "$REQ/ac_input.json" --disable-auto-complete-config
expect_line 1 '{"error":"[request id: <id_unknown>] expected 0 inputs but got 1 inputs for model '\''m_autocomplete'\''. Got input(s) ['\''INPUT0'\''], but missing required input(s) ]. Please provide all required input(s)."}'

run "m_gpu_kind without GPUs" 1 infer --model-repository "$MODELS" --model m_gpu_kind \
  --request "$REQ/gpu_input.json" --request "$REQ/gpu_input.json"
expect_lines 2
expect_line 2 '{"error":"failed to load model '\''m_gpu_kind'\'': Invalid argument: instance group m_gpu_kind_0 of model m_gpu_kind specifies invalid or unsupported gpu id 0. GPUs with at least the minimum required CUDA compute compatibility of 7.500000 are: "}'

run "m_gpu_kind with --gpus 2" 0 infer --model-repository "$MODELS" --model m_gpu_kind \
  --request "$REQ/gpu_input.json" --gpus 2 --stats "$TMP/gpu_stats.json"
expect_file "$TMP/gpu_stats.json" '"kind":	"GPU"'

run "m_noversion" 1 infer --model-repository "$MODELS" --model m_noversion \
  --request "$REQ/gpu_input.json"
expect_line 1 '{"error":"failed to load model '\''m_noversion'\'': Poll failed for model directory '\''m_noversion'\'': at least one version must be available under the version policy of model '\''m_noversion'\''"}'

# Several models in one infer: each --request goes to the --model before it, in order; each
# model loads once, all through one identity backend.
run "infer, several models" 0 infer --model-repository "$MODELS" --model m_basic \
  --request "$REQ/c4.json" --model m_types --request "$REQ/types.json" --model m_basic \
  --request "$REQ/json_full.json" --request "$REQ/c4.json" --repeat 2 --stats "$TMP/multi.json"
expect_lines 4
expect_line 1 '{"model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[4,4,4,4]}]}'
expect_prefix 2 '{"id":"types","model_name":"m_types","model_version":"1","parameters":'
expect_line 3 '{"id":"req-json-full","model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]},{"name":"OUTPUT1","datatype":"INT64","shape":[1,3],"data":[10,20,30]}]}'
expect_line 4 '{"model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[4,4,4,4]}]}'
[[ "$(grep -c "loaded backend 'identity'" "$TMP/err")" == 1 ]] && passed=$((passed + 1)) ||
  fail "infer, several models: the identity backend is not loaded exactly once"
[[ "$(grep -c "successfully loaded 'm_basic'" "$TMP/err")" == 1 ]] &&
  passed=$((passed + 1)) || fail "infer, several models: m_basic is not loaded exactly once"
python3 - "$TMP/multi.json" <<'EOF' && passed=$((passed + 1)) || fail "infer, several models: stats"
import json, sys
s = json.load(open(sys.argv[1]))
assert list(s) == ["m_basic", "m_types"], list(s)
assert s["m_basic"]["reported"]["success_count"] == 6, s["m_basic"]["reported"]
assert s["m_types"]["reported"]["success_count"] == 2, s["m_types"]["reported"]
EOF

run "infer, several models, one fails to load" 1 infer --model-repository "$MODELS" \
  --model m_noversion --request "$REQ/gpu_input.json" --model m_basic --request "$REQ/c4.json"
expect_lines 2
expect_prefix 1 '{"error":"failed to load model '\''m_noversion'\'': '
expect_line 2 '{"model_name":"m_basic","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[4,4,4,4]}]}'

run "replay" 0 replay --model-repository "$MODELS" --model m_basic --request "$REQ/c4.json" \
  --request "$REQ/json_full.json" --model m_types --request "$REQ/types.json" \
  --repeat 20 --warmup 2 --log-verbose
expect_lines 4
expect_err "response to request 'types' of model 'm_types': outputs checked, data not formatted"
grep -q '^{"model":"m_basic","requests":20,"errors":0,"p50_us":' "$TMP/out" &&
  passed=$((passed + 1)) || fail "replay: pair line"
grep -q '^{"total_requests":60,"wall_s":' "$TMP/out" && passed=$((passed + 1)) ||
  fail "replay: total line"

# Replay chains: each pass sends the head, then each --then-request to its --then-model once
# the answer before has come; a pass is one latency sample. A second pair has no chain.
run "replay, chain" 0 replay --model-repository "$MODELS" --model m_basic \
  --request "$REQ/c4.json" --then-model m_types --then-request "$REQ/types.json" \
  --then-model m_basic --then-request "$REQ/json_full.json" \
  --model m_nobatch --request "$REQ/fp16_raw.json" \
  --repeat 5 --warmup 1 --stats "$TMP/chain.json"
expect_lines 3
expect_prefix 1 '{"model":"m_basic","chain":["m_basic","m_types","m_basic"],"requests":5,"errors":0,"p50_us":'
expect_prefix 2 '{"model":"m_nobatch","requests":5,"errors":0,"p50_us":'
expect_prefix 3 '{"total_requests":10,"wall_s":'
[[ "$(grep -c "successfully loaded '" "$TMP/err")" == 3 ]] && passed=$((passed + 1)) ||
  fail "replay, chain: not three model loads"
python3 - "$TMP/chain.json" <<'EOF' && passed=$((passed + 1)) || fail "replay, chain: stats"
import json, sys
s = json.load(open(sys.argv[1]))
assert list(s) == ["m_basic", "m_types", "m_nobatch"], list(s)
# 6 passes (1 warm-up + 5): m_basic twice per pass, m_types once
assert s["m_basic"]["reported"]["success_count"] == 12, s["m_basic"]["reported"]
assert s["m_types"]["reported"]["success_count"] == 6, s["m_types"]["reported"]
assert s["m_nobatch"]["reported"]["success_count"] == 6, s["m_nobatch"]["reported"]
EOF

# An error in a chain link is an error of the pair: identity fails a requested output it has
# no input for (let through by --no-frontend-checks); the pass stops there.
run "replay, chain with a failing link" 1 replay --model-repository "$MODELS" \
  --model m_basic --request "$REQ/c4.json" --then-model m_basic \
  --then-request "$REQ/unknown_output.json" --then-model m_types \
  --then-request "$REQ/types.json" --repeat 3 --no-frontend-checks --stats "$TMP/chain_err.json"
expect_prefix 1 '{"model":"m_basic","chain":["m_basic","m_basic","m_types"],"requests":3,"errors":3,'
python3 - "$TMP/chain_err.json" <<'EOF' && passed=$((passed + 1)) || fail "replay, chain with a failing link: stats"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["m_basic"]["reported"]["success_count"] == 3, s["m_basic"]["reported"]
assert s["m_basic"]["reported"]["fail_count"] == 3, s["m_basic"]["reported"]
assert s["m_types"]["reported"]["success_count"] == 0, s["m_types"]["reported"]
EOF

run "replay, chain link rejected by the front end" 1 replay --model-repository "$MODELS" \
  --model m_basic --request "$REQ/c4.json" --first-request "$REQ/json_full.json" \
  --then-model m_basic --then-request "$REQ/bad_shape.json" --repeat 2
expect_prefix 1 '{"model":"m_basic","chain":["m_basic","m_basic"],"requests":2,"errors":2,'
expect_err "bad_shape.json: {\"error\":\"[request id: <id_unknown>] unexpected shape"

run "replay, --then-model without --then-request" 64 replay --model-repository "$MODELS" \
  --model m_basic --request "$REQ/c4.json" --then-model m_types --repeat 2
run "infer, --then-model" 64 infer --model-repository "$MODELS" \
  --model m_basic --request "$REQ/c4.json" --then-model m_types --then-request "$REQ/types.json"

run "usage error" 64 infer --model-repository "$MODELS"

# ---------------------------------------------------------------- rogue backend
ROGUE="$TMP/rogue"
rogue_model() { # BEHAVIOUR
  mkdir -p "$ROGUE/r_$1/1"
  cat >"$ROGUE/r_$1/config.pbtxt" <<EOF
backend: "rogue"
max_batch_size: 4
input [ { name: "INPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
output [ { name: "OUTPUT0", data_type: TYPE_FP32, dims: [ 4 ] },
         { name: "OUTPUT1", data_type: TYPE_FP32, dims: [ 4 ] },
         { name: "S_OUT", data_type: TYPE_STRING, dims: [ 1 ] } ]
instance_group [ { count: 2, kind: KIND_CPU } ]
parameters { key: "behaviour" value: { string_value: "$1" } }
EOF
}

# rogue BEHAVIOUR EXPECTED_RC STDERR_TEXT [STDOUT_LINE]
rogue() {
  rogue_model "$1"
  run "rogue $1" "$2" infer --model-repository "$ROGUE" --model "r_$1" \
    --request "$REQ/c4.json" --response-timeout 1 || return
  [[ -n "$3" ]] && expect_err "$3"
  [[ -n "${4:-}" ]] && expect_line 1 "$4"
  [[ "$2" != 2 ]] && expect_no_err "contract breach"
  return 0
}

OK_LINE_PREFIX='{"model_name":"r_'
rogue ok 0 "" '{"model_name":"r_ok","model_version":"1","outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[1,4],"data":[4,4,4,4]}]}'
rogue double_release 2 "contract breach: TRITONBACKEND_RequestRelease: request '<id_unknown>' released twice"
rogue missing_response 2 "was released without a response being sent" \
  '{"error":"host: the backend released the request without sending a response"}'
rogue use_after_release 2 "TRITONBACKEND_RequestInputCount: request '<id_unknown>' used after TRITONBACKEND_RequestRelease"
rogue wrong_output_shape 2 "has shape [1,5], expected [1,4]"
rogue wrong_dtype 2 "output 'OUTPUT0' has datatype INT32 but model 'r_wrong_dtype' declares FP32"
rogue unknown_output 2 "output 'OUTPUT9' is not an output of model 'r_unknown_output'"
rogue duplicate_output 2 "output 'OUTPUT0' added twice"
rogue wrong_buffer_size 2 "asks for 20 bytes, but its shape and datatype need 16"
rogue leak_error 2 "1 TRITONSERVER_Error object(s) never deleted"
rogue double_error_delete 2 "TRITONSERVER_ErrorDelete"
rogue error_after_send 2 "returned an error after sending a response"
rogue error_after_release 2 "returned an error after releasing request"
rogue two_responses 2 "a second response was sent"
rogue non_final 2 "sent with flags 0"
rogue unsent_response 2 "response(s) created but neither sent nor deleted"
rogue keep_request 2 "handed to Execute and never released"
rogue delete_backend_config 2 "owned by Triton and must not be deleted"
rogue leak_model_config 2 "TRITONSERVER_Message object(s)"
rogue stats_after_release 2 "TRITONBACKEND_ModelInstanceReportStatistics: request '<id_unknown>' used after"
rogue output_after_next_response 2 "after a newer response was created"
rogue set_config_in_execute 2 "can only be called during TRITONBACKEND_ModelInitialize"
rogue bad_handle 2 "not a live request"
# Breaches found in a sent response's output data: infer (which formats the data) and replay
# (which does not) must both catch them.
rogue_replay() { # BEHAVIOUR STDERR_TEXT
  rogue "$1" 2 "$2" || return
  run "rogue $1, replay" 2 replay --model-repository "$ROGUE" --model "r_$1" \
    --request "$REQ/c4.json" --repeat 3 --warmup 1 --response-timeout 1 || return
  expect_err "$2"
  expect_prefix 1 '{"model":"r_'"$1"'","requests":3,"errors":3,'
}
rogue_replay no_output_buffer "output 'OUTPUT0' was sent without TRITONBACKEND_OutputBuffer"
rogue_replay short_bytes "BYTES output 'S_OUT' holds fewer than 1 length-prefixed elements"
rogue_replay bytes_overrun "BYTES output 'S_OUT' element 0 overruns the buffer"
rogue execute_error 1 "" '{"error":"rogue is unavailable"}'
rogue error_response 1 "" '{"error":"rogue rejects this input","code":"INVALID_ARG"}'
rogue fail_model_init 1 "" '{"error":"failed to load model '\''r_fail_model_init'\'': rogue refuses this model"}'
rogue fail_instance_init 1 "" '{"error":"failed to load model '\''r_fail_instance_init'\'': rogue instance _1 failed"}'

echo "host self-tests: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
