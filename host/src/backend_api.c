/*
 * The TRITONBACKEND_* functions a backend calls: backend, model, instance, request and
 * response, each checking the contract of tritonbackend.h before acting.
 *
 * Every handle is looked up in the registry before it is touched, and carries a lifecycle
 * state: a call on a released request, a sent response, a finalized model or instance, or on
 * something the host never handed out, is a contract breach. Such calls return an error to
 * the backend (which it then owns) and change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* ---------------------------------------------------------------- handle checks */

static TRITONSERVER_Error*
ba_invalid(const char* fn, const char* what)
{
  return host_error(TRITONSERVER_ERROR_INVALID_ARG, "%s: %s", fn, what);
}

static bool
ba_backend_ok(TRITONBACKEND_Backend* b, const char* fn)
{
  if (registry_kind(b) != HK_BACKEND) {
    contracts_breach("%s(%p): not a backend handle", fn, (void*)b);
    return false;
  }
  if (b->life == LIFE_FINALIZED) {
    contracts_breach("%s: backend '%s' used after TRITONBACKEND_Finalize", fn, b->name);
    return false;
  }
  return true;
}

static bool
ba_model_ok(TRITONBACKEND_Model* m, const char* fn)
{
  if (registry_kind(m) != HK_MODEL) {
    contracts_breach("%s(%p): not a model handle", fn, (void*)m);
    return false;
  }
  if (m->life == LIFE_FINALIZED) {
    contracts_breach("%s: model '%s' used after TRITONBACKEND_ModelFinalize", fn, m->name);
    return false;
  }
  return true;
}

static bool
ba_instance_ok(TRITONBACKEND_ModelInstance* i, const char* fn)
{
  if (registry_kind(i) != HK_INSTANCE) {
    contracts_breach("%s(%p): not a model instance handle", fn, (void*)i);
    return false;
  }
  if (i->life == LIFE_FINALIZED) {
    contracts_breach("%s: instance '%s' used after TRITONBACKEND_ModelInstanceFinalize", fn,
                     i->name);
    return false;
  }
  return true;
}

/* A request may be used from the moment it is handed to Execute until it is released. The
 * caller holds no lock; the state is read under the request's lock. */
static bool
ba_request_ok(TRITONBACKEND_Request* r, const char* fn)
{
  if (registry_kind(r) != HK_REQUEST) {
    contracts_breach("%s(%p): not a live request (released long ago, or never handed to the "
                     "backend)", fn, (void*)r);
    return false;
  }
  pthread_mutex_lock(&r->lock);
  host_request_state st = r->state;
  pthread_mutex_unlock(&r->lock);
  switch (st) {
    case REQ_EXECUTING:
    case REQ_BACKEND: return true;
    case REQ_RELEASED:
      contracts_breach("%s: request '%s' used after TRITONBACKEND_RequestRelease", fn,
                       host_request_label(r));
      return false;
    case REQ_HOST_ANSWERED:
      contracts_breach("%s: request '%s' used after ModelInstanceExecute returned an error "
                       "(the request belongs to Triton then)", fn, host_request_label(r));
      return false;
    case REQ_QUEUED:
      contracts_breach("%s: request '%s' has not been handed to the backend", fn,
                       host_request_label(r));
      return false;
  }
  return false;
}

static bool
ba_input_ok(TRITONBACKEND_Input* in, const char* fn)
{
  if (registry_kind(in) != HK_INPUT) {
    contracts_breach("%s(%p): not a live input", fn, (void*)in);
    return false;
  }
  return ba_request_ok(in->request, fn);
}

/* Returns from the calling API function with an error when HANDLE is not a live NOUN (the
 * breach is recorded by ba_NOUN_ok). */
#define BA_CHECK(noun, handle)                                                                 \
  do {                                                                                         \
    if (!ba_##noun##_ok(handle, __func__)) {                                                   \
      return ba_invalid(__func__, "invalid " #noun);                                           \
    }                                                                                          \
  } while (0)

/* A getter: checks the handle (a breach and an error when it is not a live NOUN), then stores
 * its FIELD in *out. */
#define BA_GET(fn, noun, handle_type, out_type, field)                                         \
  HOST_API TRITONSERVER_Error* fn(handle_type* noun, out_type* out)                            \
  {                                                                                            \
    BA_CHECK(noun, noun);                                                                      \
    *out = noun->field;                                                                        \
    return NULL;                                                                               \
  }

/* The backend's state pointer of a backend, model or instance: stored, never read. */
#define BA_SET_STATE(fn, noun, handle_type)                                                    \
  HOST_API TRITONSERVER_Error* fn(handle_type* noun, void* state)                              \
  {                                                                                            \
    BA_CHECK(noun, noun);                                                                      \
    noun->state = state;                                                                       \
    return NULL;                                                                               \
  }

/* ---------------------------------------------------------------- backend */

HOST_API TRITONSERVER_Error*
TRITONBACKEND_ApiVersion(uint32_t* major, uint32_t* minor)
{
  if (major == NULL || minor == NULL) {
    return ba_invalid("TRITONBACKEND_ApiVersion", "major or minor is nullptr");
  }
  *major = TRITONBACKEND_API_VERSION_MAJOR;
  *minor = TRITONBACKEND_API_VERSION_MINOR;
  return NULL;
}

BA_GET(TRITONBACKEND_BackendName, backend, TRITONBACKEND_Backend, const char*, name)

/* The message belongs to Triton: the backend must not delete it. */
BA_GET(TRITONBACKEND_BackendConfig, backend, TRITONBACKEND_Backend, TRITONSERVER_Message*, config)

HOST_API TRITONSERVER_Error*
TRITONBACKEND_BackendArtifacts(
    TRITONBACKEND_Backend* backend, TRITONBACKEND_ArtifactType* artifact_type,
    const char** location)
{
  BA_CHECK(backend, backend);
  *artifact_type = TRITONBACKEND_ARTIFACT_FILESYSTEM;
  *location = backend->dir;
  return NULL;
}

BA_GET(TRITONBACKEND_BackendState, backend, TRITONBACKEND_Backend, void*, state)
BA_SET_STATE(TRITONBACKEND_BackendSetState, backend, TRITONBACKEND_Backend)

/* ---------------------------------------------------------------- model */

BA_GET(TRITONBACKEND_ModelName, model, TRITONBACKEND_Model, const char*, name)
BA_GET(TRITONBACKEND_ModelVersion, model, TRITONBACKEND_Model, uint64_t, version)

/* The model directory <repo>/<model>, not the version directory. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_ModelRepository(
    TRITONBACKEND_Model* model, TRITONBACKEND_ArtifactType* artifact_type, const char** location)
{
  BA_CHECK(model, model);
  *artifact_type = TRITONBACKEND_ARTIFACT_FILESYSTEM;
  *location = model->repo_path;
  return NULL;
}

/* Returns a new message the backend owns and must delete. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_ModelConfig(
    TRITONBACKEND_Model* model, const uint32_t config_version,
    TRITONSERVER_Message** model_config)
{
  BA_CHECK(model, model);
  if (config_version != 1) {
    return host_error(TRITONSERVER_ERROR_UNSUPPORTED,
                      "model configuration version %u not supported, supported versions are: 1",
                      config_version);
  }
  pthread_mutex_lock(&model->lock);
  *model_config = host_message_new(model->config_json, strlen(model->config_json), false);
  pthread_mutex_unlock(&model->lock);
  return NULL;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_ModelAutoCompleteConfig(TRITONBACKEND_Model* model, bool* auto_complete_config)
{
  BA_CHECK(model, model);
  *auto_complete_config = g_host_options.auto_complete;
  return NULL;
}

/* Only during ModelInitialize, on its thread. Honours inputs, outputs, max_batch_size and the
 * scheduling choice (only if none was set); the caller keeps the message. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_ModelSetConfig(
    TRITONBACKEND_Model* model, const uint32_t config_version, TRITONSERVER_Message* model_config)
{
  BA_CHECK(model, model);
  if (config_version != 1) {
    return host_error(TRITONSERVER_ERROR_UNSUPPORTED,
                      "model configuration version %u not supported, supported versions are: 1",
                      config_version);
  }
  if (!model->in_model_initialize || !pthread_equal(pthread_self(), model->load_thread)) {
    return host_error(TRITONSERVER_ERROR_UNSUPPORTED,
                      "TRITONBACKEND_ModelSetConfig for model '%s' can only be called during "
                      "TRITONBACKEND_ModelInitialize", model->name);
  }
  if (registry_kind(model_config) != HK_MESSAGE) {
    contracts_breach("TRITONBACKEND_ModelSetConfig(%p): not a live message",
                     (void*)model_config);
    return ba_invalid("TRITONBACKEND_ModelSetConfig", "invalid message");
  }
  cJSON* candidate = cJSON_Duplicate(model->sparse_config, true);
  char* err = model_config_merge_set(candidate, model_config->json, model_config->len);
  if (err == NULL) {
    err = model_config_normalize(candidate, model->name, g_host_options.gpus);
  }
  char* json = NULL;
  if (err == NULL) {
    json = model_config_emit(candidate, &err);
  }
  host_model_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  if (err == NULL) {
    err = model_config_extract(candidate, &cfg);
  }
  if (err != NULL) {
    cJSON_Delete(candidate);
    free(json);
    model_config_free(&cfg);
    TRITONSERVER_Error* e = host_error(TRITONSERVER_ERROR_INVALID_ARG, "%s", err);
    free(err);
    return e;
  }
  pthread_mutex_lock(&model->lock);
  cJSON_Delete(model->sparse_config);
  model->sparse_config = candidate;
  free(model->config_json);
  model->config_json = json;
  model_config_free(&model->cfg);
  model->cfg = cfg;
  pthread_mutex_unlock(&model->lock);
  HLOG_VERBOSE("model '%s' configuration updated by the backend: %s", model->name, json);
  return NULL;
}

BA_GET(TRITONBACKEND_ModelBackend, model, TRITONBACKEND_Model, TRITONBACKEND_Backend*, backend)
BA_GET(TRITONBACKEND_ModelState, model, TRITONBACKEND_Model, void*, state)
BA_SET_STATE(TRITONBACKEND_ModelSetState, model, TRITONBACKEND_Model)

/* ---------------------------------------------------------------- model instance */

BA_GET(TRITONBACKEND_ModelInstanceName, instance, TRITONBACKEND_ModelInstance, const char*, name)
BA_GET(TRITONBACKEND_ModelInstanceKind, instance, TRITONBACKEND_ModelInstance,
       TRITONSERVER_InstanceGroupKind, kind)
BA_GET(TRITONBACKEND_ModelInstanceDeviceId, instance, TRITONBACKEND_ModelInstance,
       int32_t, device_id)
BA_GET(TRITONBACKEND_ModelInstanceModel, instance, TRITONBACKEND_ModelInstance,
       TRITONBACKEND_Model*, model)
BA_GET(TRITONBACKEND_ModelInstanceState, instance, TRITONBACKEND_ModelInstance, void*, state)
BA_SET_STATE(TRITONBACKEND_ModelInstanceSetState, instance, TRITONBACKEND_ModelInstance)

/* Once per request, by the instance executing it, before the request is released. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceReportStatistics(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request, const bool success,
    const uint64_t exec_start_ns, const uint64_t compute_start_ns,
    const uint64_t compute_end_ns, const uint64_t exec_end_ns)
{
  static const char fn[] = "TRITONBACKEND_ModelInstanceReportStatistics";
  if (!ba_instance_ok(instance, fn) || !ba_request_ok(request, fn)) {
    return ba_invalid(fn, "invalid instance or request");
  }
  pthread_mutex_lock(&request->lock);
  bool twice = request->stats_reported;
  bool other = request->executed_by != instance;
  request->stats_reported = true;
  pthread_mutex_unlock(&request->lock);
  if (other) {
    contracts_breach("%s: request '%s' reported by instance '%s' but executed by '%s'", fn,
                     host_request_label(request), instance->name,
                     request->executed_by ? request->executed_by->name : "none");
  }
  if (twice) {
    contracts_breach("%s: statistics reported twice for request '%s'", fn,
                     host_request_label(request));
    return NULL;
  }
  if (success && !(exec_start_ns <= compute_start_ns && compute_start_ns <= compute_end_ns &&
                   compute_end_ns <= exec_end_ns)) {
    HLOG_WARN("%s: timestamps of request '%s' are not ordered exec_start <= compute_start <= "
              "compute_end <= exec_end", fn, host_request_label(request));
  }
  TRITONBACKEND_Model* m = instance->model;
  pthread_mutex_lock(&m->lock);
  if (success) {
    m->stats.success_count++;
    m->stats.compute_input_ns += compute_start_ns - exec_start_ns;
    m->stats.compute_infer_ns += compute_end_ns - compute_start_ns;
    m->stats.compute_output_ns += exec_end_ns - compute_end_ns;
  } else {
    m->stats.fail_count++;
  }
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceReportBatchStatistics(
    TRITONBACKEND_ModelInstance* instance, const uint64_t batch_size,
    const uint64_t exec_start_ns, const uint64_t compute_start_ns,
    const uint64_t compute_end_ns, const uint64_t exec_end_ns)
{
  static const char fn[] = "TRITONBACKEND_ModelInstanceReportBatchStatistics";
  if (!ba_instance_ok(instance, fn)) {
    return ba_invalid(fn, "invalid instance");
  }
  if (instance->life != LIFE_READY) {
    contracts_breach("%s: instance '%s' is not executing (statistics outside Execute)", fn,
                     instance->name);
  }
  TRITONBACKEND_Model* m = instance->model;
  pthread_mutex_lock(&m->lock);
  m->stats.batch_stats_count++;
  histogram_add(&m->stats.reported_batch, batch_size);
  m->stats.batch_compute_input_ns += compute_start_ns - exec_start_ns;
  m->stats.batch_compute_infer_ns += compute_end_ns - compute_start_ns;
  m->stats.batch_compute_output_ns += exec_end_ns - compute_end_ns;
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

/* ---------------------------------------------------------------- requests and inputs */

BA_GET(TRITONBACKEND_RequestId, request, TRITONBACKEND_Request, const char*, id)
BA_GET(TRITONBACKEND_RequestInputCount, request, TRITONBACKEND_Request, uint32_t, input_count)

HOST_API TRITONSERVER_Error*
TRITONBACKEND_RequestInputName(
    TRITONBACKEND_Request* request, const uint32_t index, const char** input_name)
{
  BA_CHECK(request, request);
  if (index >= request->input_count) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                      "out of bounds index %u: request has %u inputs", index,
                      request->input_count);
  }
  *input_name = request->inputs[index]->name;
  return NULL;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_RequestInput(
    TRITONBACKEND_Request* request, const char* name, TRITONBACKEND_Input** input)
{
  BA_CHECK(request, request);
  for (uint32_t i = 0; name != NULL && i < request->input_count; ++i) {
    if (strcmp(request->inputs[i]->name, name) == 0) {
      *input = request->inputs[i];
      return NULL;
    }
  }
  return host_error(TRITONSERVER_ERROR_INVALID_ARG, "input '%s' does not exist in request",
                    name != NULL ? name : "(null)");
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_RequestInputByIndex(
    TRITONBACKEND_Request* request, const uint32_t index, TRITONBACKEND_Input** input)
{
  BA_CHECK(request, request);
  if (index >= request->input_count) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                      "out of bounds index %u: request has %u inputs", index,
                      request->input_count);
  }
  *input = request->inputs[index];
  return NULL;
}

BA_GET(TRITONBACKEND_RequestOutputCount, request, TRITONBACKEND_Request, uint32_t, output_count)

HOST_API TRITONSERVER_Error*
TRITONBACKEND_RequestOutputName(
    TRITONBACKEND_Request* request, const uint32_t index, const char** output_name)
{
  BA_CHECK(request, request);
  if (index >= request->output_count) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                      "out of bounds index %u: request has %u requested outputs", index,
                      request->output_count);
  }
  *output_name = request->outputs[index];
  return NULL;
}

BA_GET(TRITONBACKEND_RequestParameterCount, request, TRITONBACKEND_Request, uint32_t, param_count)

/* vvalue: STRING -> const char*, INT -> int64_t*, BOOL -> bool*, DOUBLE -> double*. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_RequestParameter(
    TRITONBACKEND_Request* request, const uint32_t index, const char** key,
    TRITONSERVER_ParameterType* type, const void** vvalue)
{
  BA_CHECK(request, request);
  if (index >= request->param_count) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                      "out of bounds index %u: request has %u parameters", index,
                      request->param_count);
  }
  host_param* p = &request->params[index];
  if (key != NULL) {
    *key = p->key;
  }
  if (type != NULL) {
    *type = p->type;
  }
  if (vvalue != NULL) {
    switch (p->type) {
      case TRITONSERVER_PARAMETER_STRING: *vvalue = p->str; break;
      case TRITONSERVER_PARAMETER_INT: *vvalue = &p->i; break;
      case TRITONSERVER_PARAMETER_BOOL: *vvalue = &p->b; break;
      default: *vvalue = &p->d; break;
    }
  }
  return NULL;
}

/* Answers a released request that never got (and can no longer get) a response. */
static void
ba_check_unanswered(TRITONBACKEND_Request* r)
{
  pthread_mutex_lock(&r->lock);
  bool lost = r->state == REQ_RELEASED && !r->answered && r->open_responses == 0;
  if (lost) {
    r->answered = true; /* only report it once */
  }
  pthread_mutex_unlock(&r->lock);
  if (lost) {
    contracts_breach("request '%s' of model '%s' was released without a response being sent",
                     host_request_label(r), r->model->name);
    call_deliver(r->call,
                 requests_error_json("host: the backend released the request without sending "
                                     "a response"),
                 true);
  }
}

/* Exactly once per request, with RELEASE_ALL; afterwards nothing from the request may be used.
 * A failed release leaves the request with the backend. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_RequestRelease(TRITONBACKEND_Request* request, uint32_t release_flags)
{
  static const char fn[] = "TRITONBACKEND_RequestRelease";
  if (registry_kind(request) != HK_REQUEST) {
    contracts_breach("%s(%p): not a live request (released long ago?)", fn, (void*)request);
    return ba_invalid(fn, "invalid request");
  }
  if (release_flags != TRITONSERVER_REQUEST_RELEASE_ALL) {
    return host_error(TRITONSERVER_ERROR_UNSUPPORTED,
                      "%s: release flags %u not supported by the host (only RELEASE_ALL; "
                      "RESCHEDULE needs sequence batching)", fn, release_flags);
  }
  pthread_mutex_lock(&request->lock);
  host_request_state st = request->state;
  if (st == REQ_EXECUTING || st == REQ_BACKEND) {
    request->state = REQ_RELEASED;
  }
  pthread_mutex_unlock(&request->lock);
  if (st == REQ_RELEASED) {
    contracts_breach("%s: request '%s' released twice", fn, host_request_label(request));
    return ba_invalid(fn, "request already released");
  }
  if (st == REQ_HOST_ANSWERED) {
    contracts_breach("%s: request '%s' released after ModelInstanceExecute returned an error "
                     "(Triton owned and released it)", fn, host_request_label(request));
    return ba_invalid(fn, "request belongs to Triton");
  }
  if (st == REQ_QUEUED) {
    contracts_breach("%s: request '%s' was never handed to the backend", fn,
                     host_request_label(request));
    return ba_invalid(fn, "request not owned by the backend");
  }
  TRITONBACKEND_Model* m = request->model;
  ba_check_unanswered(request);
  pthread_mutex_lock(&m->lock);
  m->outstanding--;
  m->stats.backend_releases++;
  pthread_cond_broadcast(&m->outstanding_cv);
  pthread_mutex_unlock(&m->lock);
  requests_retire(request);
  return NULL;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_InputProperties(
    TRITONBACKEND_Input* input, const char** name, TRITONSERVER_DataType* datatype,
    const int64_t** shape, uint32_t* dims_count, uint64_t* byte_size, uint32_t* buffer_count)
{
  BA_CHECK(input, input);
  if (name != NULL) *name = input->name;
  if (datatype != NULL) *datatype = input->dtype;
  if (shape != NULL) *shape = input->shape;
  if (dims_count != NULL) *dims_count = input->dims_count;
  if (byte_size != NULL) *byte_size = input->byte_size;
  if (buffer_count != NULL) *buffer_count = input->buffer_count;
  return NULL;
}

/* The memory type arguments are a preference that Triton ignores: they come back as where the
 * bytes are (CPU, id 0). The buffer lives until the request is released. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_InputBuffer(
    TRITONBACKEND_Input* input, const uint32_t index, const void** buffer,
    uint64_t* buffer_byte_size, TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id)
{
  BA_CHECK(input, input);
  if (index >= input->buffer_count) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                      "out of bounds index %u: input '%s' has %u buffers", index, input->name,
                      input->buffer_count);
  }
  if (buffer == NULL || buffer_byte_size == NULL || memory_type == NULL ||
      memory_type_id == NULL) {
    return ba_invalid("TRITONBACKEND_InputBuffer", "an output argument is nullptr");
  }
  *buffer = input->buffers[index];
  *buffer_byte_size = input->buffer_sizes[index];
  *memory_type = TRITONSERVER_MEMORY_CPU;
  *memory_type_id = 0;
  return NULL;
}

/* ---------------------------------------------------------------- responses and outputs */

static bool
ba_response_ok(TRITONBACKEND_Response* resp, const char* fn)
{
  if (registry_kind(resp) != HK_RESPONSE) {
    contracts_breach("%s(%p): not a live response", fn, (void*)resp);
    return false;
  }
  pthread_mutex_lock(&resp->request->lock);
  int st = resp->state;
  pthread_mutex_unlock(&resp->request->lock);
  if (st == RESP_SENT) {
    contracts_breach("%s: response for request '%s' used after TRITONBACKEND_ResponseSend", fn,
                     host_request_label(resp->request));
    return false;
  }
  if (st == RESP_DELETED) {
    contracts_breach("%s: response for request '%s' used after TRITONBACKEND_ResponseDelete",
                     fn, host_request_label(resp->request));
    return false;
  }
  return true;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_ResponseNew(TRITONBACKEND_Response** response, TRITONBACKEND_Request* request)
{
  BA_CHECK(request, request);
  if (response == NULL) {
    return ba_invalid("TRITONBACKEND_ResponseNew", "response is nullptr");
  }
  TRITONBACKEND_Response* resp = calloc(1, sizeof(*resp));
  if (resp == NULL) {
    contracts_fatal("host out of memory creating a response");
  }
  resp->request = request;
  pthread_mutex_lock(&request->lock);
  resp->next_in_request = request->responses;
  request->responses = resp;
  request->open_responses++;
  pthread_mutex_unlock(&request->lock);
  registry_add(resp, HK_RESPONSE);
  *response = resp;
  return NULL;
}

/* A response that is not sent must be deleted. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_ResponseDelete(TRITONBACKEND_Response* response)
{
  BA_CHECK(response, response);
  TRITONBACKEND_Request* r = response->request;
  pthread_mutex_lock(&r->lock);
  response->state = RESP_DELETED;
  r->open_responses--;
  pthread_mutex_unlock(&r->lock);
  ba_check_unanswered(r);
  return NULL;
}

static const host_tensor_config*
ba_find_output(const TRITONBACKEND_Model* m, const char* name)
{
  for (int i = 0; i < m->cfg.output_count; ++i) {
    if (strcmp(m->cfg.outputs[i].name, name) == 0) {
      return &m->cfg.outputs[i];
    }
  }
  return NULL;
}

static char*
ba_shape_string(const int64_t* shape, uint32_t n)
{
  size_t cap = 16 + (size_t)n * 24;
  char* s = calloc(1, cap);
  strcat(s, "[");
  for (uint32_t i = 0; i < n; ++i) {
    size_t used = strlen(s);
    snprintf(s + used, cap - used, "%s%lld", i ? "," : "", (long long)shape[i]);
  }
  strcat(s, "]");
  return s;
}

/* Checks an output against the config: known name, not yet added to this response, same
 * datatype, and a shape matching dims (or reshape), with the request's batch size prepended
 * when max_batch_size > 0. Returns a breach description or NULL. */
static char*
ba_output_problem(TRITONBACKEND_Response* resp, const char* name, TRITONSERVER_DataType dt,
                  const int64_t* shape, uint32_t dims_count)
{
  TRITONBACKEND_Request* r = resp->request;
  TRITONBACKEND_Model* m = r->model;
  char* out = NULL;
  const host_tensor_config* oc = ba_find_output(m, name);
  if (oc == NULL) {
    return host_printf("output '%s' is not an output of model '%s'", name, m->name);
  }
  for (int i = 0; i < resp->output_count; ++i) {
    if (strcmp(resp->outputs[i]->name, name) == 0) {
      return host_printf("output '%s' added twice to one response of request '%s'", name,
                         host_request_label(r));
    }
  }
  if (dt != oc->dtype) {
    return host_printf("output '%s' has datatype %s but model '%s' declares %s", name,
                       dtype_name(dt), m->name, dtype_name(oc->dtype));
  }
  const int64_t* dims = oc->has_reshape ? oc->reshape : oc->dims;
  int n = oc->has_reshape ? oc->reshape_count : oc->dims_count;
  bool batched = m->cfg.max_batch_size > 0 && !oc->is_shape_tensor;
  bool ok = (int)dims_count == n + (batched ? 1 : 0) && (shape != NULL || dims_count == 0);
  for (uint32_t i = 0; ok && i < dims_count; ++i) {
    if (shape[i] < 0) {
      ok = false;
    }
  }
  if (ok && batched && r->input_count > 0 && shape[0] != r->batch_size) {
    ok = false;
  }
  for (int i = 0; ok && i < n; ++i) {
    int64_t got = shape[i + (batched ? 1 : 0)];
    ok = dims[i] == -1 || dims[i] == got;
  }
  if (!ok) {
    char* got = ba_shape_string(shape, shape != NULL ? dims_count : 0);
    int64_t full[64];
    int k = 0;
    if (batched) {
      full[k++] = r->input_count > 0 ? r->batch_size : -1;
    }
    for (int i = 0; i < n && k < 64; ++i) {
      full[k++] = dims[i];
    }
    char* want = ba_shape_string(full, (uint32_t)k);
    out = host_printf("output '%s' of request '%s' has shape %s, expected %s (-1 = any)", name,
                      host_request_label(r), got, want);
    free(got);
    free(want);
  }
  return out;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_ResponseOutput(
    TRITONBACKEND_Response* response, TRITONBACKEND_Output** output, const char* name,
    const TRITONSERVER_DataType datatype, const int64_t* shape, const uint32_t dims_count)
{
  static const char fn[] = "TRITONBACKEND_ResponseOutput";
  if (!ba_response_ok(response, fn)) {
    return ba_invalid(fn, "invalid response");
  }
  if (output == NULL || name == NULL) {
    return ba_invalid(fn, "output or name is nullptr");
  }
  TRITONBACKEND_Request* r = response->request;
  pthread_mutex_lock(&r->lock);
  bool newest = r->responses == response;
  char* problem = ba_output_problem(response, name, datatype, shape, dims_count);
  pthread_mutex_unlock(&r->lock);
  if (!newest) {
    contracts_breach("%s: output '%s' added to an older response of request '%s' after a newer "
                     "response was created (create all outputs of a response first)",
                     fn, name, host_request_label(r));
  }
  if (problem != NULL) {
    contracts_breach("%s: %s", fn, problem);
    TRITONSERVER_Error* e = host_error(TRITONSERVER_ERROR_INVALID_ARG, "%s", problem);
    free(problem);
    return e;
  }
  TRITONBACKEND_Output* o = calloc(1, sizeof(*o));
  if (o == NULL) {
    contracts_fatal("host out of memory creating an output");
  }
  o->response = response;
  o->name = strdup(name);
  o->dtype = datatype;
  o->dims_count = dims_count;
  o->shape = calloc(dims_count + 1, sizeof(int64_t));
  if (dims_count > 0) {
    memcpy(o->shape, shape, dims_count * sizeof(int64_t));
  }
  pthread_mutex_lock(&r->lock);
  if (response->output_count == response->output_cap) {
    response->output_cap = response->output_cap ? response->output_cap * 2 : 4;
    response->outputs =
        realloc(response->outputs, (size_t)response->output_cap * sizeof(*response->outputs));
  }
  response->outputs[response->output_count++] = o;
  pthread_mutex_unlock(&r->lock);
  registry_add(o, HK_OUTPUT);
  *output = o;
  return NULL;
}

/* Host memory of exactly the requested size, which must be shape x datatype size. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_OutputBuffer(
    TRITONBACKEND_Output* output, void** buffer, const uint64_t buffer_byte_size,
    TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id)
{
  static const char fn[] = "TRITONBACKEND_OutputBuffer";
  if (registry_kind(output) != HK_OUTPUT) {
    contracts_breach("%s(%p): not a live output", fn, (void*)output);
    return ba_invalid(fn, "invalid output");
  }
  if (!ba_response_ok(output->response, fn)) {
    return ba_invalid(fn, "output of a sent or deleted response");
  }
  if (buffer == NULL || memory_type == NULL || memory_type_id == NULL) {
    return ba_invalid(fn, "an output argument is nullptr");
  }
  if (output->has_buffer) {
    contracts_breach("%s: called twice for output '%s'", fn, output->name);
    return ba_invalid(fn, "output already has a buffer");
  }
  if (output->dtype != TRITONSERVER_TYPE_BYTES) {
    uint64_t expected = dtype_size(output->dtype);
    for (uint32_t i = 0; i < output->dims_count; ++i) {
      expected *= (uint64_t)output->shape[i];
    }
    if (expected != buffer_byte_size) {
      contracts_breach("%s: output '%s' asks for %llu bytes, but its shape and datatype need "
                       "%llu", fn, output->name, (unsigned long long)buffer_byte_size,
                       (unsigned long long)expected);
      return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                        "output '%s' buffer size %llu does not match shape x datatype (%llu)",
                        output->name, (unsigned long long)buffer_byte_size,
                        (unsigned long long)expected);
    }
  }
  void* mem = malloc(buffer_byte_size ? buffer_byte_size : 1);
  if (mem == NULL) {
    return host_error(TRITONSERVER_ERROR_UNAVAILABLE, "out of host memory for output '%s'",
                      output->name);
  }
  output->buffer = mem;
  output->byte_size = buffer_byte_size;
  output->has_buffer = true;
  *buffer = mem;
  *memory_type = TRITONSERVER_MEMORY_CPU;
  *memory_type_id = 0;
  return NULL;
}

HOST_API TRITONSERVER_Error*
TRITONBACKEND_ResponseSetStringParameter(
    TRITONBACKEND_Response* response, const char* name, const char* value)
{
  static const char fn[] = "TRITONBACKEND_ResponseSetStringParameter";
  if (!ba_response_ok(response, fn)) {
    return ba_invalid(fn, "invalid response");
  }
  if (name == NULL || value == NULL) {
    return ba_invalid(fn, "name or value is nullptr");
  }
  TRITONBACKEND_Request* r = response->request;
  pthread_mutex_lock(&r->lock);
  response->params = realloc(response->params,
                             (size_t)(response->param_count + 1) * sizeof(host_param));
  host_param* p = &response->params[response->param_count++];
  memset(p, 0, sizeof(*p));
  p->key = strdup(name);
  p->type = TRITONSERVER_PARAMETER_STRING;
  p->str = strdup(value);
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

/* Sends the one final response of a request: its outputs are checked, and formatted with their
 * data only when the client wants the data (infer). The error (if any) stays owned by the
 * caller. */
HOST_API TRITONSERVER_Error*
TRITONBACKEND_ResponseSend(
    TRITONBACKEND_Response* response, const uint32_t send_flags, TRITONSERVER_Error* error)
{
  static const char fn[] = "TRITONBACKEND_ResponseSend";
  if (!ba_response_ok(response, fn)) {
    return ba_invalid(fn, "invalid response");
  }
  TRITONBACKEND_Request* r = response->request;
  if (send_flags != TRITONSERVER_RESPONSE_COMPLETE_FINAL) {
    contracts_breach("%s: response for request '%s' sent with flags %u; a non-decoupled model "
                     "sends exactly one response with TRITONSERVER_RESPONSE_COMPLETE_FINAL",
                     fn, host_request_label(r), send_flags);
  }
  char* err_msg = error != NULL ? host_error_peek(error, fn) : NULL;
  const char* err_code = error != NULL ? host_error_code_name(error) : NULL;
  pthread_mutex_lock(&r->lock);
  bool second = r->answered;
  bool host_owned = r->state == REQ_HOST_ANSWERED;
  response->state = RESP_SENT;
  r->open_responses--;
  r->answered = true;
  char* json = NULL;
  char* format_err = NULL;
  bool with_data = r->call->wants_data;
  if (!second && !host_owned) {
    json = err_msg != NULL ? requests_backend_error_json(err_msg, err_code)
                           : requests_format_response(response, with_data, &format_err);
  }
  pthread_mutex_unlock(&r->lock);
  if (second) {
    contracts_breach("%s: a second response was sent for request '%s'", fn, host_request_label(r));
  } else if (host_owned) {
    contracts_breach("%s: response sent for request '%s' after ModelInstanceExecute returned "
                     "an error for it", fn, host_request_label(r));
  } else {
    pthread_mutex_lock(&r->model->lock);
    r->model->stats.backend_responses++;
    pthread_mutex_unlock(&r->model->lock);
    bool is_error = err_msg != NULL;
    if (format_err != NULL) {
      contracts_breach("%s: %s", fn, format_err);
      json = requests_error_json(format_err);
      free(format_err);
      is_error = true;
    } else if (!is_error && !with_data) {
      HLOG_VERBOSE("response to request '%s' of model '%s': outputs checked, data not "
                   "formatted", host_request_label(r), r->model->name);
    }
    call_deliver(r->call, json, is_error);
  }
  free(err_msg);
  return NULL;
}
