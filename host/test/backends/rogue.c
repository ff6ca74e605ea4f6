/*
 * libtriton_rogue.so: a misbehaving test backend. The model config parameter "behaviour"
 * picks one breach of the backend API contract (or one legal failure), so the host's
 * self-tests can check that each is caught. Apart from that it answers like identity for a
 * model with INPUT0 -> OUTPUT0.
 *
 * Breaches: double_release, missing_response, use_after_release,
 * wrong_output_shape, wrong_dtype, unknown_output, duplicate_output, wrong_buffer_size,
 * leak_error, double_error_delete, error_after_send, error_after_release, two_responses,
 * non_final, unsent_response, keep_request, delete_backend_config, leak_model_config,
 * stats_after_release, output_after_next_response, set_config_in_execute (legal error, but
 * the error is leaked), bad_handle, no_output_buffer (OUTPUT0 sent without a buffer),
 * short_bytes and bytes_overrun (a malformed BYTES output S_OUT of shape [batch, 1]).
 * Legal failures: execute_error (host answers), fail_model_init, fail_instance_init,
 * error_response (ResponseSend with an error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "triton_api.h"

#define EXPORT __attribute__((visibility("default")))

static void
ignore(TRITONSERVER_Error* err)
{
  if (err != NULL) {
    TRITONSERVER_ErrorDelete(err);
  }
}

typedef struct rogue_model {
  char behaviour[64];
} rogue_model;

static const char*
behaviour_of_instance(TRITONBACKEND_ModelInstance* instance)
{
  TRITONBACKEND_Model* model = NULL;
  void* state = NULL;
  ignore(TRITONBACKEND_ModelInstanceModel(instance, &model));
  ignore(TRITONBACKEND_ModelState(model, &state));
  return state != NULL ? ((rogue_model*)state)->behaviour : "";
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_Initialize(TRITONBACKEND_Backend* backend)
{
  (void)backend;
  return NULL;
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model)
{
  TRITONSERVER_Message* msg = NULL;
  TRITONSERVER_Error* err = TRITONBACKEND_ModelConfig(model, 1, &msg);
  if (err != NULL) {
    return err;
  }
  const char* base = NULL;
  size_t size = 0;
  ignore(TRITONSERVER_MessageSerializeToJson(msg, &base, &size));
  cJSON* config = cJSON_ParseWithLength(base, size);
  rogue_model* s = calloc(1, sizeof(*s));
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "parameters"),
                                       "behaviour"),
      "string_value");
  snprintf(s->behaviour, sizeof(s->behaviour), "%s", cJSON_IsString(v) ? v->valuestring : "");
  cJSON_Delete(config);
  if (strcmp(s->behaviour, "leak_model_config") != 0) {
    ignore(TRITONSERVER_MessageDelete(msg));
  }
  if (strcmp(s->behaviour, "delete_backend_config") == 0) {
    TRITONBACKEND_Backend* backend = NULL;
    TRITONSERVER_Message* bc = NULL;
    ignore(TRITONBACKEND_ModelBackend(model, &backend));
    ignore(TRITONBACKEND_BackendConfig(backend, &bc));
    ignore(TRITONSERVER_MessageDelete(bc));
  }
  if (strcmp(s->behaviour, "fail_model_init") == 0) {
    free(s);
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "rogue refuses this model");
  }
  return TRITONBACKEND_ModelSetState(model, s);
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model)
{
  void* state = NULL;
  ignore(TRITONBACKEND_ModelState(model, &state));
  free(state);
  return NULL;
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* instance)
{
  const char* name = NULL;
  ignore(TRITONBACKEND_ModelInstanceName(instance, &name));
  if (strcmp(behaviour_of_instance(instance), "fail_instance_init") == 0 &&
      strcmp(name + strlen(name) - 2, "_1") == 0) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "rogue instance _1 failed");
  }
  return NULL;
}

/* Builds and sends the normal response: OUTPUT0 = INPUT0 (or a broken variant). */
static void
respond(TRITONBACKEND_Request* request, const char* b, TRITONBACKEND_Response* response)
{
  TRITONBACKEND_Input* input = NULL;
  TRITONSERVER_DataType dt = TRITONSERVER_TYPE_FP32;
  const int64_t* shape = NULL;
  uint32_t dims = 0, buffers = 0;
  uint64_t size = 0;
  ignore(TRITONBACKEND_RequestInput(request, "INPUT0", &input));
  ignore(TRITONBACKEND_InputProperties(input, NULL, &dt, &shape, &dims, &size, &buffers));
  int64_t oshape[8];
  memcpy(oshape, shape, dims * sizeof(int64_t));
  const char* name = "OUTPUT0";
  if (strcmp(b, "wrong_output_shape") == 0) {
    oshape[dims - 1] += 1;
  } else if (strcmp(b, "wrong_dtype") == 0) {
    dt = TRITONSERVER_TYPE_INT32;
  } else if (strcmp(b, "unknown_output") == 0) {
    name = "OUTPUT9";
  }
  TRITONBACKEND_Output* output = NULL;
  TRITONSERVER_Error* err =
      TRITONBACKEND_ResponseOutput(response, &output, name, dt, oshape, dims);
  if (err != NULL) {
    ignore(TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, err));
    TRITONSERVER_ErrorDelete(err);
    return;
  }
  if (strcmp(b, "no_output_buffer") == 0) {
    ignore(TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, NULL));
    return;
  }
  if (strcmp(b, "duplicate_output") == 0) {
    TRITONBACKEND_Output* again = NULL;
    ignore(TRITONBACKEND_ResponseOutput(response, &again, name, dt, oshape, dims));
  }
  void* dst = NULL;
  TRITONSERVER_MemoryType mt = TRITONSERVER_MEMORY_CPU;
  int64_t mt_id = 0;
  uint64_t want = strcmp(b, "wrong_buffer_size") == 0 ? size + 4 : size;
  err = TRITONBACKEND_OutputBuffer(output, &dst, want, &mt, &mt_id);
  if (err != NULL) {
    ignore(TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, err));
    TRITONSERVER_ErrorDelete(err);
    return;
  }
  const void* src = NULL;
  uint64_t n = 0;
  ignore(TRITONBACKEND_InputBuffer(input, 0, &src, &n, &mt, &mt_id));
  memcpy(dst, src, n < size ? n : size);
  if (strcmp(b, "short_bytes") == 0 || strcmp(b, "bytes_overrun") == 0) {
    /* S_OUT [batch, 1]: 2 bytes (no room for a length), or a length of 100 in 4 bytes */
    int64_t sshape[2] = {oshape[0], 1};
    TRITONBACKEND_Output* s_out = NULL;
    void* sdst = NULL;
    uint64_t ssize = strcmp(b, "short_bytes") == 0 ? 2 : 4;
    ignore(TRITONBACKEND_ResponseOutput(response, &s_out, "S_OUT", TRITONSERVER_TYPE_BYTES,
                                        sshape, 2));
    if (s_out != NULL &&
        TRITONBACKEND_OutputBuffer(s_out, &sdst, ssize, &mt, &mt_id) == NULL) {
      memcpy(sdst, "\x64\0\0\0", ssize);
    }
  }
  if (strcmp(b, "output_after_next_response") == 0) {
    TRITONBACKEND_Response* next = NULL;
    TRITONBACKEND_Output* late = NULL;
    ignore(TRITONBACKEND_ResponseNew(&next, request));
    ignore(TRITONBACKEND_ResponseOutput(response, &late, "OUTPUT1", dt, oshape, dims));
    ignore(TRITONBACKEND_ResponseDelete(next));
  }
  uint32_t flags = strcmp(b, "non_final") == 0 ? 0 : TRITONSERVER_RESPONSE_COMPLETE_FINAL;
  ignore(TRITONBACKEND_ResponseSend(response, flags, NULL));
}

EXPORT TRITONSERVER_Error*
TRITONBACKEND_ModelInstanceExecute(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request** requests,
    const uint32_t request_count)
{
  const char* b = behaviour_of_instance(instance);
  if (strcmp(b, "execute_error") == 0) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_UNAVAILABLE, "rogue is unavailable");
  }
  if (strcmp(b, "bad_handle") == 0) {
    const char* id = NULL;
    ignore(TRITONBACKEND_RequestId((TRITONBACKEND_Request*)instance, &id));
  }
  for (uint32_t r = 0; r < request_count; ++r) {
    TRITONBACKEND_Request* request = requests[r];
    if (strcmp(b, "missing_response") == 0) {
      ignore(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL));
      continue;
    }
    TRITONBACKEND_Response* response = NULL;
    ignore(TRITONBACKEND_ResponseNew(&response, request));
    if (strcmp(b, "unsent_response") == 0) {
      TRITONBACKEND_Response* extra = NULL;
      ignore(TRITONBACKEND_ResponseNew(&extra, request));
      respond(request, b, extra);
      continue; /* `response` is neither sent nor deleted */
    }
    if (strcmp(b, "error_response") == 0) {
      TRITONSERVER_Error* e =
          TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "rogue rejects this input");
      ignore(TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, e));
      TRITONSERVER_ErrorDelete(e);
    } else {
      respond(request, b, response);
    }
    if (strcmp(b, "two_responses") == 0) {
      TRITONBACKEND_Response* second = NULL;
      ignore(TRITONBACKEND_ResponseNew(&second, request));
      ignore(TRITONBACKEND_ResponseSend(second, TRITONSERVER_RESPONSE_COMPLETE_FINAL, NULL));
    }
    if (strcmp(b, "leak_error") == 0) {
      (void)TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "rogue leaks this error");
    }
    if (strcmp(b, "double_error_delete") == 0) {
      TRITONSERVER_Error* e = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "twice");
      TRITONSERVER_ErrorDelete(e);
      TRITONSERVER_ErrorDelete(e);
    }
    if (strcmp(b, "set_config_in_execute") == 0) {
      TRITONBACKEND_Model* model = NULL;
      TRITONSERVER_Message* msg = NULL;
      ignore(TRITONBACKEND_ModelInstanceModel(instance, &model));
      ignore(TRITONSERVER_MessageNewFromSerializedJson(&msg, "{}", 2));
      (void)TRITONBACKEND_ModelSetConfig(model, 1, msg); /* error returned and leaked */
      ignore(TRITONSERVER_MessageDelete(msg));
    }
    if (strcmp(b, "error_after_send") == 0) {
      continue; /* not released: Execute returns an error below */
    }
    if (strcmp(b, "keep_request") == 0) {
      continue;
    }
    if (strcmp(b, "stats_after_release") != 0) {
      ignore(TRITONBACKEND_ModelInstanceReportStatistics(instance, request, true, 1, 2, 3, 4));
    }
    ignore(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL));
    if (strcmp(b, "double_release") == 0) {
      ignore(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL));
    }
    if (strcmp(b, "use_after_release") == 0) {
      uint32_t count = 0;
      ignore(TRITONBACKEND_RequestInputCount(request, &count));
    }
    if (strcmp(b, "stats_after_release") == 0) {
      ignore(TRITONBACKEND_ModelInstanceReportStatistics(instance, request, true, 1, 2, 3, 4));
    }
  }
  if (strcmp(b, "error_after_send") == 0 || strcmp(b, "error_after_release") == 0) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "rogue failed late");
  }
  return NULL;
}
