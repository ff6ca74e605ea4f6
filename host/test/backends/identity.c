/*
 * libtriton_identity.so: a well-behaved test backend for the host's self-tests. It copies
 * input i of the model config to output i, request by request (batches are not merged), and
 * uses the API the way a careful backend does: version check, backend and model config,
 * ModelSetConfig (auto-complete), per-request and batch statistics, custom metrics, response
 * parameters, and every error and message deleted exactly once.
 *
 * Model config parameters it reads:
 *   auto_complete_io: "true" -> with auto-complete on and no inputs configured, declares
 *                               INPUT0/OUTPUT0 FP32 [4] through ModelSetConfig
 *   execute_delay_ms: sleep this long in each Execute (to observe batching)
 *   echo_backend_config: "true" -> every response carries the backend config JSON as the
 *                               string parameter "backend_config"
 *   echo_parameters: "true"     -> every request parameter comes back as the response
 *                               parameter "param.<key>" = "<TYPE>:<value>"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "triton_api.h"

#define EXPORT __attribute__((visibility("default")))

#define RETURN_IF_ERROR(X)             \
  do {                                 \
    TRITONSERVER_Error* rie_err__ = (X); \
    if (rie_err__ != NULL) {           \
      return rie_err__;                \
    }                                  \
  } while (0)

#define LOG_IF_ERROR(X)                                                               \
  do {                                                                                \
    TRITONSERVER_Error* lie_err__ = (X);                                              \
    if (lie_err__ != NULL) {                                                          \
      TRITONSERVER_LogMessage(TRITONSERVER_LOG_ERROR, __FILE__, __LINE__,             \
                              TRITONSERVER_ErrorMessage(lie_err__));                  \
      TRITONSERVER_ErrorDelete(lie_err__);                                            \
    }                                                                                 \
  } while (0)

static uint64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct model_state {
  cJSON* config;
  int64_t max_batch_size;
  int execute_delay_ms;
  char* backend_config; /* for echo_backend_config, or NULL */
  bool echo_parameters;
  TRITONSERVER_MetricFamily* requests_family;
  TRITONSERVER_Metric* requests_metric;
  TRITONSERVER_MetricFamily* inflight_family;
  TRITONSERVER_Metric* inflight_metric;
} model_state;

static const char*
param(const cJSON* config, const char* key)
{
  const cJSON* p = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(config, "parameters"), key);
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(p, "string_value");
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static TRITONSERVER_Error*
read_config(TRITONBACKEND_Model* model, cJSON** out)
{
  TRITONSERVER_Message* msg = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_ModelConfig(model, 1, &msg));
  const char* base = NULL;
  size_t size = 0;
  TRITONSERVER_Error* err = TRITONSERVER_MessageSerializeToJson(msg, &base, &size);
  if (err == NULL) {
    *out = cJSON_ParseWithLength(base, size);
    if (*out == NULL) {
      err = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "model config is not JSON");
    }
  }
  LOG_IF_ERROR(TRITONSERVER_MessageDelete(msg));
  return err;
}

/* ---------------------------------------------------------------- backend */

EXPORT TRITONSERVER_Error*
TRITONBACKEND_Initialize(TRITONBACKEND_Backend* backend)
{
  uint32_t major = 0, minor = 0;
  RETURN_IF_ERROR(TRITONBACKEND_ApiVersion(&major, &minor));
  if (major != TRITONBACKEND_API_VERSION_MAJOR || minor < TRITONBACKEND_API_VERSION_MINOR) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_UNSUPPORTED, "API version mismatch");
  }
  const char* name = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_BackendName(backend, &name));
  TRITONSERVER_Message* cfg = NULL; /* owned by Triton: not deleted */
  RETURN_IF_ERROR(TRITONBACKEND_BackendConfig(backend, &cfg));
  const char* base = NULL;
  size_t size = 0;
  RETURN_IF_ERROR(TRITONSERVER_MessageSerializeToJson(cfg, &base, &size));
  TRITONBACKEND_ArtifactType type;
  const char* location = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_BackendArtifacts(backend, &type, &location));
  char line[1024];
  snprintf(line, sizeof(line), "identity backend '%s' initialized from %s, config %.*s", name,
           location, (int)size, base);
  LOG_IF_ERROR(TRITONSERVER_LogMessage(TRITONSERVER_LOG_INFO, __FILE__, __LINE__, line));
  char* copy = strndup(base, size);
  RETURN_IF_ERROR(TRITONBACKEND_BackendSetState(backend, copy));
  return NULL;
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_Finalize(TRITONBACKEND_Backend* backend)
{
  void* state = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_BackendState(backend, &state));
  free(state);
  return NULL;
}

/* ---------------------------------------------------------------- model */

static TRITONSERVER_Error*
auto_complete(TRITONBACKEND_Model* model, cJSON* config)
{
  const cJSON* inputs = cJSON_GetObjectItemCaseSensitive(config, "input");
  if (cJSON_GetArraySize(inputs) > 0) {
    return NULL;
  }
  cJSON* update = cJSON_Duplicate(config, 1);
  cJSON* in = cJSON_Parse("[{\"name\":\"INPUT0\",\"data_type\":\"TYPE_FP32\",\"dims\":[4]}]");
  cJSON* out = cJSON_Parse("[{\"name\":\"OUTPUT0\",\"data_type\":\"TYPE_FP32\",\"dims\":[4]}]");
  cJSON_ReplaceItemInObjectCaseSensitive(update, "input", in);
  cJSON_ReplaceItemInObjectCaseSensitive(update, "output", out);
  char* json = cJSON_PrintUnformatted(update);
  cJSON_Delete(update);
  TRITONSERVER_Message* msg = NULL;
  TRITONSERVER_Error* err = TRITONSERVER_MessageNewFromSerializedJson(&msg, json, strlen(json));
  free(json);
  RETURN_IF_ERROR(err);
  err = TRITONBACKEND_ModelSetConfig(model, 1, msg);
  LOG_IF_ERROR(TRITONSERVER_MessageDelete(msg));
  return err;
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model)
{
  cJSON* config = NULL;
  RETURN_IF_ERROR(read_config(model, &config));
  bool auto_complete_enabled = false;
  TRITONSERVER_Error* err = TRITONBACKEND_ModelAutoCompleteConfig(model, &auto_complete_enabled);
  const char* ac = param(config, "auto_complete_io");
  if (err == NULL && auto_complete_enabled && ac != NULL && strcmp(ac, "true") == 0) {
    err = auto_complete(model, config);
    if (err == NULL) {
      cJSON_Delete(config);
      config = NULL;
      err = read_config(model, &config);
    }
  }
  if (err != NULL) {
    cJSON_Delete(config);
    return err;
  }
  model_state* s = calloc(1, sizeof(*s));
  s->config = config;
  s->max_batch_size =
      (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(config, "max_batch_size"));
  const char* delay = param(config, "execute_delay_ms");
  s->execute_delay_ms = delay != NULL ? atoi(delay) : 0;
  const char* echo = param(config, "echo_backend_config");
  if (echo != NULL && strcmp(echo, "true") == 0) {
    TRITONBACKEND_Backend* backend = NULL;
    void* bstate = NULL;
    RETURN_IF_ERROR(TRITONBACKEND_ModelBackend(model, &backend));
    RETURN_IF_ERROR(TRITONBACKEND_BackendState(backend, &bstate));
    s->backend_config = strdup((const char*)bstate);
  }
  const char* echo_params = param(config, "echo_parameters");
  s->echo_parameters = echo_params != NULL && strcmp(echo_params, "true") == 0;
  const char* name = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_ModelName(model, &name));
  RETURN_IF_ERROR(TRITONSERVER_MetricFamilyNew(&s->requests_family,
                                               TRITONSERVER_METRIC_KIND_COUNTER,
                                               "identity_requests_total",
                                               "Requests answered by the identity backend"));
  RETURN_IF_ERROR(TRITONSERVER_MetricFamilyNew(&s->inflight_family,
                                               TRITONSERVER_METRIC_KIND_GAUGE,
                                               "identity_last_batch_requests",
                                               "Requests in the last Execute call"));
  TRITONSERVER_Parameter* label =
      TRITONSERVER_ParameterNew("model", TRITONSERVER_PARAMETER_STRING, name);
  const TRITONSERVER_Parameter* labels[] = {label};
  RETURN_IF_ERROR(TRITONSERVER_MetricNew(&s->requests_metric, s->requests_family, labels, 1));
  RETURN_IF_ERROR(TRITONSERVER_MetricNew(&s->inflight_metric, s->inflight_family, labels, 1));
  TRITONSERVER_ParameterDelete(label);
  /* A family with live metrics cannot be deleted: Triton returns an error. */
  TRITONSERVER_Error* busy = TRITONSERVER_MetricFamilyDelete(s->requests_family);
  if (busy == NULL) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL,
                                 "MetricFamilyDelete with live metrics succeeded");
  }
  TRITONSERVER_ErrorDelete(busy);
  return TRITONBACKEND_ModelSetState(model, s);
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model)
{
  void* vs = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_ModelState(model, &vs));
  model_state* s = vs;
  LOG_IF_ERROR(TRITONSERVER_MetricDelete(s->requests_metric));
  LOG_IF_ERROR(TRITONSERVER_MetricDelete(s->inflight_metric));
  LOG_IF_ERROR(TRITONSERVER_MetricFamilyDelete(s->requests_family));
  LOG_IF_ERROR(TRITONSERVER_MetricFamilyDelete(s->inflight_family));
  cJSON_Delete(s->config);
  free(s->backend_config);
  free(s);
  return NULL;
}

/* ---------------------------------------------------------------- instance */

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* instance)
{
  const char* name = NULL;
  TRITONSERVER_InstanceGroupKind kind;
  int32_t device = -1;
  RETURN_IF_ERROR(TRITONBACKEND_ModelInstanceName(instance, &name));
  RETURN_IF_ERROR(TRITONBACKEND_ModelInstanceKind(instance, &kind));
  RETURN_IF_ERROR(TRITONBACKEND_ModelInstanceDeviceId(instance, &device));
  char line[256];
  snprintf(line, sizeof(line), "instance %s kind %d device %d", name, (int)kind, device);
  LOG_IF_ERROR(TRITONSERVER_LogMessage(TRITONSERVER_LOG_VERBOSE, __FILE__, __LINE__, line));
  return NULL;
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* instance)
{
  (void)instance;
  return NULL;
}

/* ---------------------------------------------------------------- execute */

/* Copies config input `index` of the request into a new output of the response. */
static TRITONSERVER_Error*
copy_output(TRITONBACKEND_Request* request, TRITONBACKEND_Response* response,
            const cJSON* config, const char* output_name)
{
  const cJSON* outputs = cJSON_GetObjectItemCaseSensitive(config, "output");
  const cJSON* inputs = cJSON_GetObjectItemCaseSensitive(config, "input");
  int index = 0;
  const cJSON* o = NULL;
  cJSON_ArrayForEach(o, outputs)
  {
    if (strcmp(cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring, output_name) == 0) {
      break;
    }
    index++;
  }
  const cJSON* ic = cJSON_GetArrayItem(inputs, index);
  if (o == NULL || ic == NULL) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "no input for output");
  }
  TRITONBACKEND_Input* input = NULL;
  TRITONSERVER_Error* err = TRITONBACKEND_RequestInput(
      request, cJSON_GetObjectItemCaseSensitive(ic, "name")->valuestring, &input);
  if (err != NULL) { /* an optional input left out: no output */
    TRITONSERVER_ErrorDelete(err);
    return NULL;
  }
  TRITONSERVER_DataType dt;
  const int64_t* shape = NULL;
  uint32_t dims = 0, buffers = 0;
  uint64_t byte_size = 0;
  RETURN_IF_ERROR(
      TRITONBACKEND_InputProperties(input, NULL, &dt, &shape, &dims, &byte_size, &buffers));
  TRITONBACKEND_Output* output = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_ResponseOutput(response, &output, output_name, dt, shape, dims));
  void* dst = NULL;
  TRITONSERVER_MemoryType mt = TRITONSERVER_MEMORY_CPU;
  int64_t mt_id = 0;
  RETURN_IF_ERROR(TRITONBACKEND_OutputBuffer(output, &dst, byte_size, &mt, &mt_id));
  uint64_t off = 0;
  for (uint32_t b = 0; b < buffers; ++b) {
    const void* src = NULL;
    uint64_t n = 0;
    TRITONSERVER_MemoryType smt = TRITONSERVER_MEMORY_GPU; /* a preference Triton ignores */
    int64_t smt_id = 3;
    RETURN_IF_ERROR(TRITONBACKEND_InputBuffer(input, b, &src, &n, &smt, &smt_id));
    if (smt != TRITONSERVER_MEMORY_CPU || smt_id != 0 || off + n > byte_size) {
      return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "unexpected input buffer");
    }
    memcpy((char*)dst + off, src, n);
    off += n;
  }
  return NULL;
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceExecute(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request** requests,
    const uint32_t request_count)
{
  uint64_t exec_start = now_ns();
  TRITONBACKEND_Model* model = NULL;
  void* vs = NULL;
  RETURN_IF_ERROR(TRITONBACKEND_ModelInstanceModel(instance, &model));
  RETURN_IF_ERROR(TRITONBACKEND_ModelState(model, &vs));
  model_state* s = vs;
  if (s->execute_delay_ms > 0) {
    struct timespec ts = {s->execute_delay_ms / 1000, (s->execute_delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  /* Copy the pointers: the array goes back to Triton when Execute returns. */
  TRITONBACKEND_Request** reqs = malloc(request_count * sizeof(*reqs));
  memcpy(reqs, requests, request_count * sizeof(*reqs));
  uint64_t total_batch = 0;
  uint64_t compute_start = now_ns();
  for (uint32_t r = 0; r < request_count; ++r) {
    TRITONBACKEND_Request* request = reqs[r];
    TRITONBACKEND_Response* response = NULL;
    TRITONSERVER_Error* err = TRITONBACKEND_ResponseNew(&response, request);
    uint32_t nout = 0;
    if (err == NULL) {
      err = TRITONBACKEND_RequestOutputCount(request, &nout);
    }
    for (uint32_t o = 0; err == NULL && o < nout; ++o) {
      const char* name = NULL;
      err = TRITONBACKEND_RequestOutputName(request, o, &name);
      if (err == NULL) {
        err = copy_output(request, response, s->config, name);
      }
    }
    if (err == NULL && s->backend_config != NULL) {
      err = TRITONBACKEND_ResponseSetStringParameter(response, "backend_config",
                                                     s->backend_config);
    }
    uint32_t nparams = 0;
    if (err == NULL) {
      err = TRITONBACKEND_RequestParameterCount(request, &nparams);
    }
    for (uint32_t p = 0; err == NULL && s->echo_parameters && p < nparams; ++p) {
      const char* key = NULL;
      TRITONSERVER_ParameterType type;
      const void* value = NULL;
      err = TRITONBACKEND_RequestParameter(request, p, &key, &type, &value);
      if (err == NULL) {
        char text[256];
        switch (type) {
          case TRITONSERVER_PARAMETER_STRING:
            snprintf(text, sizeof(text), "STRING:%s", (const char*)value);
            break;
          case TRITONSERVER_PARAMETER_INT:
            snprintf(text, sizeof(text), "INT:%lld", (long long)*(const int64_t*)value);
            break;
          case TRITONSERVER_PARAMETER_BOOL:
            snprintf(text, sizeof(text), "BOOL:%s", *(const bool*)value ? "true" : "false");
            break;
          default:
            snprintf(text, sizeof(text), "DOUBLE:%.17g", *(const double*)value);
        }
        char pkey[300];
        snprintf(pkey, sizeof(pkey), "param.%s", key);
        err = TRITONBACKEND_ResponseSetStringParameter(response, pkey, text);
      }
    }
    const char* id = NULL;
    if (err == NULL) {
      err = TRITONBACKEND_RequestId(request, &id);
    }
    uint32_t nin = 0;
    if (err == NULL) {
      err = TRITONBACKEND_RequestInputCount(request, &nin);
    }
    if (err == NULL && nin > 0 && s->max_batch_size > 0) {
      TRITONBACKEND_Input* in0 = NULL;
      const int64_t* shape = NULL;
      uint32_t dims = 0;
      err = TRITONBACKEND_RequestInputByIndex(request, 0, &in0);
      if (err == NULL) {
        err = TRITONBACKEND_InputProperties(in0, NULL, NULL, &shape, &dims, NULL, NULL);
      }
      if (err == NULL && dims > 0) {
        total_batch += (uint64_t)shape[0];
      }
    } else {
      total_batch += 1;
    }
    uint64_t end = now_ns();
    LOG_IF_ERROR(TRITONBACKEND_ModelInstanceReportStatistics(
        instance, request, err == NULL, exec_start, compute_start, end, end));
    if (response != NULL) {
      LOG_IF_ERROR(TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, err));
    }
    if (err != NULL) {
      TRITONSERVER_ErrorDelete(err);
    }
    LOG_IF_ERROR(TRITONSERVER_MetricIncrement(s->requests_metric, 1));
    LOG_IF_ERROR(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL));
  }
  uint64_t exec_end = now_ns();
  LOG_IF_ERROR(TRITONSERVER_MetricSet(s->inflight_metric, request_count));
  LOG_IF_ERROR(TRITONBACKEND_ModelInstanceReportBatchStatistics(
      instance, total_batch, exec_start, compute_start, exec_end, exec_end));
  free(reqs);
  return NULL;
}
