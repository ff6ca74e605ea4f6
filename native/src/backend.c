/* The TRITONBACKEND_* entry points of java_onnxruntime. Each one attaches the calling Triton
 * thread to the JVM and delegates to dev.javaonnxruntime.triton.BackendEntryPoints; the Java side
 * owns all state. Nothing here throws or aborts: every failure is a TRITONSERVER_Error. */
#include <stdint.h>

#include "errors.h"
#include "exit_guard.h"
#include "jvm.h"
#include "triton_api.h"

#define EXPORT __attribute__((visibility("default")))

#define HANDLE(p) ((jlong)(intptr_t)(p))

/* Called once when Triton loads the backend, before any model: checks the API version, starts
 * the JVM and lets Java read the backend config. An error fails the load of the model. */
EXPORT TRITONSERVER_Error* TRITONBACKEND_Initialize(TRITONBACKEND_Backend* backend)
{
  uint32_t major = 0, minor = 0;
  TRITONSERVER_Error* err = TRITONBACKEND_ApiVersion(&major, &minor);
  if (err != NULL) {
    return err;
  }
  if (major != TRITONBACKEND_API_VERSION_MAJOR || minor < TRITONBACKEND_API_VERSION_MINOR) {
    return errors_new(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "triton backend API version %u.%u does not support java_onnxruntime, which needs %d.%d "
        "or a later minor version",
        major, minor, TRITONBACKEND_API_VERSION_MAJOR, TRITONBACKEND_API_VERSION_MINOR);
  }
  if ((err = jvm_start(backend)) != NULL) {
    return err;
  }
  errors_log(
      TRITONSERVER_LOG_VERBOSE, __LINE__,
      "exit guard: %d exit() call site(s) of the host program redirected, an exit handler as well",
      exit_guard_arm());
  return jvm_call(JVM_INITIALIZE, HANDLE(backend), 0, 0);
}

/* Called once at server exit, after every model is unloaded: Java frees the device caches. */
EXPORT TRITONSERVER_Error* TRITONBACKEND_Finalize(TRITONBACKEND_Backend* backend)
{
  TRITONSERVER_Error* err = jvm_call(JVM_FINALIZE, HANDLE(backend), 0, 0);
  jvm_stop();
  return err;
}

/* Called when a model loads, on its load thread: Java parses and checks the config. */
EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model)
{
  TRITONSERVER_Error* err = jvm_call(JVM_MODEL_INITIALIZE, HANDLE(model), 0, 0);
  if (err == NULL) {
    exit_guard_models(+1);
    exit_guard_arm();
  }
  return err;
}

/* Called when a model unloads, after all its instances are finalized. */
EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model)
{
  TRITONSERVER_Error* err = jvm_call(JVM_MODEL_FINALIZE, HANDLE(model), 0, 0);
  exit_guard_models(-1);
  return err;
}

/* Called per instance of instance_group, on the model's load thread: Java creates the ORT
 * session on the instance's device and stream. */
EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* instance)
{
  TRITONSERVER_Error* err = jvm_call(JVM_INSTANCE_INITIALIZE, HANDLE(instance), 0, 0);
  if (err == NULL) {
    exit_guard_arm();
  }
  return err;
}

/* Called when an instance unloads: Java closes its session, stream and buffers. */
EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* instance)
{
  return jvm_call(JVM_INSTANCE_FINALIZE, HANDLE(instance), 0, 0);
}

/* Called on the instance's own backend thread with a batch of requests; never twice at once for
 * one instance. Java answers and releases every request and returns no error, or returns an
 * error having touched none of them (then Triton answers and releases them). */
EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request** requests,
    const uint32_t request_count)
{
  return jvm_call(JVM_INSTANCE_EXECUTE, HANDLE(instance), HANDLE(requests), (jint)request_count);
}
