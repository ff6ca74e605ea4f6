/*
 * Internal declarations of the in-process Triton host: the structures behind the opaque API
 * handles and the functions the host's modules share. Nothing here is exported from
 * libtritonserver.so; only the API functions of triton_api.h (marked HOST_API) and the driver
 * entry point TRITONHOST_Main are visible.
 *
 * Module map (one concern per file):
 *   contracts.c           breach recording and the registry of live handles
 *   server_api.c          TRITONSERVER_* errors, messages, parameters, logging, metrics
 *   backend_api.c         TRITONBACKEND_* backend/model/instance/request/response functions
 *   model_config_proto.cc config.pbtxt and the JSON handed to backends, by libprotobuf
 *   model_config.c        Triton's normalisation, the host's typed view, ModelSetConfig
 *   models.c              backend loading, model load/unload, instance creation
 *   scheduler.c           per-model queue, dynamic batcher, instance execute threads
 *   requests.c            KServe v2 request files (json-c: exact int64), front-end checks,
 *                         response printing
 *   main.c                the triton-host command line
 */
#ifndef TRITON_HOST_H
#define TRITON_HOST_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model_config_proto.h"
#include "triton_api.h"

#define HOST_API __attribute__((visibility("default")))
#define HOST_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---------------------------------------------------------------- contracts.c */

typedef enum host_handle_kind {
  HK_NONE = 0,
  HK_ERROR,
  HK_MESSAGE,
  HK_PARAMETER,
  HK_METRIC_FAMILY,
  HK_METRIC,
  HK_BACKEND,
  HK_MODEL,
  HK_INSTANCE,
  HK_REQUEST,
  HK_INPUT,
  HK_RESPONSE,
  HK_OUTPUT,
  HK_COUNT
} host_handle_kind;

const char* contracts_kind_name(host_handle_kind kind);
/* Records a breach of the backend API contract: prints "contract breach: ..." to stderr and
 * makes the process exit with status 2. Execution continues. */
void contracts_breach(const char* fmt, ...) HOST_PRINTF(1, 2);
/* A breach after which continuing would risk memory safety: prints and aborts. */
_Noreturn void contracts_fatal(const char* fmt, ...) HOST_PRINTF(1, 2);
int contracts_breach_count(void);

/* The registry holds every live handle the host has handed out, so that a handle can be
 * validated before it is dereferenced. */
void registry_add(const void* handle, host_handle_kind kind);
bool registry_remove(const void* handle, host_handle_kind kind);
host_handle_kind registry_kind(const void* handle);
size_t registry_count(host_handle_kind kind);
void registry_each(host_handle_kind kind, void (*fn)(const void* handle, void* ctx), void* ctx);

/* ---------------------------------------------------------------- server_api.c */

struct TRITONSERVER_Error {
  TRITONSERVER_Error_Code code;
  char* msg;
};

struct TRITONSERVER_Message {
  char* json;
  size_t len;
  bool host_owned; /* BackendConfig's message: the backend must not delete it */
};

typedef struct host_options {
  const char* backend_dir;
  char** backend_config; /* raw "[backend,]key=value" strings */
  int backend_config_count;
  bool auto_complete;
  int gpus;
  bool frontend_checks;
  int input_chunks;
  bool log_verbose;
  double response_timeout_s;
} host_options;

extern host_options g_host_options;

/* A malloc'd formatted string; out of memory is fatal. */
char* host_printf(const char* fmt, ...) HOST_PRINTF(1, 2);
/* An error owned by the backend (returned to it by a failing API call). */
TRITONSERVER_Error* host_error(TRITONSERVER_Error_Code code, const char* fmt, ...)
    HOST_PRINTF(2, 3);
/* Takes ownership of an error the backend returned from an entry point: validates it, copies
 * its message, deletes it. NULL in, NULL out. */
char* host_error_consume(TRITONSERVER_Error* err, const char* entry_point);
/* Copies the message of an error the backend keeps (ResponseSend). */
char* host_error_peek(TRITONSERVER_Error* err, const char* where);
/* The error's code as the enum names it without its prefix ("INVALID_ARG"); "UNKNOWN" for a
 * pointer that is not a live error. */
const char* host_error_code_name(TRITONSERVER_Error* err);
TRITONSERVER_Message* host_message_new(const char* json, size_t len, bool host_owned);
void host_message_free(TRITONSERVER_Message* msg);
void host_log(TRITONSERVER_LogLevel level, const char* file, int line, const char* fmt, ...)
    HOST_PRINTF(4, 5);
#define HLOG_INFO(...) host_log(TRITONSERVER_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define HLOG_WARN(...) host_log(TRITONSERVER_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define HLOG_ERROR(...) host_log(TRITONSERVER_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define HLOG_VERBOSE(...) host_log(TRITONSERVER_LOG_VERBOSE, __FILE__, __LINE__, __VA_ARGS__)
int metrics_write_prometheus(const char* path);
void server_api_check_leaks(void);

/* ---------------------------------------------------------------- datatypes (requests.c) */

const char* dtype_name(TRITONSERVER_DataType dt);          /* "FP32", "BYTES" */
TRITONSERVER_DataType dtype_from_name(const char* name);  /* INVALID when unknown */
TRITONSERVER_DataType dtype_from_config(const char* name); /* "TYPE_FP32" */
size_t dtype_size(TRITONSERVER_DataType dt);               /* 0 for BYTES / INVALID */

/* ---------------------------------------------------------------- model config */

typedef struct host_tensor_config {
  char* name;
  TRITONSERVER_DataType dtype;
  int64_t* dims;
  int dims_count;
  int64_t* reshape; /* NULL unless configured */
  int reshape_count;
  bool has_reshape;
  bool optional;
  bool allow_ragged_batch;
  bool is_shape_tensor;
} host_tensor_config;

typedef struct host_group_config {
  char* name;
  TRITONSERVER_InstanceGroupKind kind;
  int count;
  int* gpus;
  int gpu_count;
} host_group_config;

/* The typed view of a normalised config that the host itself needs. */
typedef struct host_model_config {
  int64_t max_batch_size;
  host_tensor_config* inputs;
  int input_count;
  host_tensor_config* outputs;
  int output_count;
  bool dynamic_batching;
  int64_t* preferred_batch_sizes;
  int preferred_count;
  uint64_t max_queue_delay_us;
  host_group_config* groups;
  int group_count;
  char* backend;
} host_model_config;

/* model_config.c (model_config_parse_text, model_config_emit: model_config_proto.h).
 * Fills Triton's defaults into a sparse config (name, version policy, optimization, dynamic
 * batching preferred sizes, instance groups). Returns NULL or a malloc'd load error. */
char* model_config_normalize(cJSON* sparse, const char* model_name, int gpu_count);
/* Extracts the host's typed view. Returns NULL or a malloc'd error. */
char* model_config_extract(const cJSON* sparse, host_model_config* out);
void model_config_free(host_model_config* cfg);
/* ModelSetConfig: merges inputs, outputs, max_batch_size (and dynamic_batching if none set)
 * of new_json into sparse. Returns NULL or a malloc'd error. */
char* model_config_merge_set(cJSON* sparse, const char* new_json, size_t len);

/* ---------------------------------------------------------------- backends and models */

typedef TRITONSERVER_Error* (*host_backend_fn)(TRITONBACKEND_Backend*);
typedef TRITONSERVER_Error* (*host_model_fn)(TRITONBACKEND_Model*);
typedef TRITONSERVER_Error* (*host_instance_fn)(TRITONBACKEND_ModelInstance*);
typedef TRITONSERVER_Error* (*host_execute_fn)(
    TRITONBACKEND_ModelInstance*, TRITONBACKEND_Request**, const uint32_t);

typedef enum host_life {
  LIFE_CREATED = 0, /* not initialized yet */
  LIFE_INITIALIZING,
  LIFE_READY,
  LIFE_FINALIZING,
  LIFE_FINALIZED
} host_life;

struct TRITONBACKEND_Backend {
  char* name;
  char* dir; /* absolute <backend-directory>/<name> */
  char* lib_path;
  void* dl;
  host_backend_fn initialize, finalize;
  host_model_fn model_initialize, model_finalize;
  host_instance_fn instance_initialize, instance_finalize;
  host_execute_fn execute;
  void* state;
  TRITONSERVER_Message* config;
  host_life life;
  char* init_error; /* Initialize failed: every model using this backend fails */
  pthread_mutex_t lock;
  struct TRITONBACKEND_Backend* next;
};

typedef struct host_instance_stats {
  uint64_t execute_count;
  uint64_t requests;
  long thread_id;
} host_instance_stats;

typedef struct host_histogram {
  uint64_t* counts; /* index = value */
  size_t size;
} host_histogram;

typedef struct host_model_stats {
  uint64_t execute_count;
  host_histogram batch_requests; /* Execute calls by number of requests */
  host_histogram batch_total;    /* Execute calls by summed batch size */
  uint64_t success_count, fail_count;
  uint64_t compute_input_ns, compute_infer_ns, compute_output_ns;
  uint64_t batch_stats_count;
  host_histogram reported_batch; /* ReportBatchStatistics by batch_size */
  uint64_t batch_compute_input_ns, batch_compute_infer_ns, batch_compute_output_ns;
  uint64_t host_error_responses; /* requests answered by the host after Execute failed */
  /* requests left with the backend by a successful Execute; the first final response the
   * backend sent for one; its successful release: equal when every request was answered and
   * released exactly once */
  uint64_t backend_owned, backend_responses, backend_releases;
} host_model_stats;

typedef struct host_queue {
  struct TRITONBACKEND_Request* head;
  struct TRITONBACKEND_Request* tail;
  size_t length;
  bool shutdown;
  bool closed; /* unloading: new requests are answered with an error at once */
  pthread_mutex_t mu;
  pthread_cond_t cv;
} host_queue;

struct TRITONBACKEND_Model {
  char* name;
  uint64_t version;
  char* repo_path; /* absolute <repo>/<model> */
  TRITONBACKEND_Backend* backend;
  cJSON* sparse_config;
  char* config_json; /* normalised JSON handed to the backend */
  host_model_config cfg;
  void* state;
  host_life life;
  pthread_t load_thread;
  bool in_model_initialize;
  bool model_initialized; /* ModelInitialize succeeded */
  char* load_error;
  struct TRITONBACKEND_ModelInstance** instances;
  int instance_count;
  host_queue queue;
  host_model_stats stats;
  /* requests handed to Execute and not yet released */
  uint64_t outstanding;
  pthread_mutex_t lock; /* guards stats, outstanding, config */
  pthread_cond_t outstanding_cv;
};

struct TRITONBACKEND_ModelInstance {
  char* name;
  TRITONSERVER_InstanceGroupKind kind;
  int32_t device_id;
  TRITONBACKEND_Model* model;
  void* state;
  host_life life;
  bool thread_started;
  pthread_t thread;
  host_instance_stats stats;
};

/* ---------------------------------------------------------------- requests */

/* Where a request's answer goes: a client thread waits on it. Reference-counted between the
 * client and the request so a late answer never writes to freed memory. */
typedef struct host_call {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  bool is_error;
  bool wants_data; /* set at creation: the answer carries the outputs' data as JSON text */
  char* result;    /* one JSON line */
  int refs;
} host_call;

/* A new call, waiting for its answer. wants_data: the caller reads the outputs' data, so a
 * successful response is formatted with it (infer prints it); without, the response's outputs
 * are checked as thoroughly but the answer leaves out "data" (replay only counts answers). */
host_call* call_new(bool wants_data);
void call_unref(host_call* call);
/* Delivers the answer once; later deliveries are ignored (the caller records the breach). */
bool call_deliver(host_call* call, char* json_line, bool is_error);
/* Waits for the answer; returns false on timeout. */
bool call_wait(host_call* call, double timeout_s);

typedef struct host_param {
  char* key;
  TRITONSERVER_ParameterType type;
  char* str;
  int64_t i;
  bool b;
  double d;
} host_param;

struct TRITONBACKEND_Input {
  struct TRITONBACKEND_Request* request;
  char* name;
  TRITONSERVER_DataType dtype;
  int64_t* shape;
  uint32_t dims_count;
  uint64_t byte_size;
  uint32_t buffer_count;
  void** buffers;
  uint64_t* buffer_sizes;
};

typedef enum host_request_state {
  REQ_QUEUED = 0,    /* owned by the host, in the scheduler queue */
  REQ_EXECUTING,     /* handed to Execute, which has not returned */
  REQ_BACKEND,       /* Execute returned success: the backend owns it */
  REQ_RELEASED,      /* the backend released it */
  REQ_HOST_ANSWERED  /* Execute returned an error: the host answered and released it */
} host_request_state;

struct TRITONBACKEND_Response {
  struct TRITONBACKEND_Request* request;
  enum { RESP_OPEN = 0, RESP_SENT, RESP_DELETED } state;
  struct TRITONBACKEND_Output** outputs;
  int output_count;
  int output_cap;
  host_param* params;
  int param_count;
  struct TRITONBACKEND_Response* next_in_request;
};

struct TRITONBACKEND_Output {
  struct TRITONBACKEND_Response* response;
  char* name;
  TRITONSERVER_DataType dtype;
  int64_t* shape;
  uint32_t dims_count;
  void* buffer;
  uint64_t byte_size;
  bool has_buffer;
};

struct TRITONBACKEND_Request {
  TRITONBACKEND_Model* model;
  char* id;
  struct TRITONBACKEND_Input** inputs;
  uint32_t input_count;
  host_param* params;
  uint32_t param_count;
  char** outputs; /* requested output names */
  uint32_t output_count;
  int64_t batch_size; /* shape[0] when max_batch_size > 0, else 1 */
  host_request_state state;
  pthread_mutex_t lock;
  TRITONBACKEND_ModelInstance* executed_by;
  bool answered;
  bool stats_reported;
  bool in_execute; /* the executing thread still refers to it: never evicted meanwhile */
  int open_responses;
  TRITONBACKEND_Response* responses; /* every response created, newest first */
  host_call* call;
  uint64_t enqueue_ns;
  size_t bytes;
  struct TRITONBACKEND_Request* next; /* scheduler queue / retired list link */
};

/* The request id as Triton logs it: "<id_unknown>" when empty. */
static inline const char*
host_request_label(const struct TRITONBACKEND_Request* r)
{
  return r->id[0] != '\0' ? r->id : "<id_unknown>";
}

/* Parsed request file, validated once; each send builds a fresh TRITONBACKEND_Request. */
typedef struct host_request_template host_request_template;

/* Parses a KServe v2 JSON request file for a model, applying the front-end checks. On
 * rejection returns NULL and sets *error_json to the {"error":...} line. */
host_request_template* requests_load(
    const char* path, TRITONBACKEND_Model* model, char** error_json);
void requests_template_free(host_request_template* t);
/* Builds a new request (buffers copied, split into --input-chunks pieces). */
TRITONBACKEND_Request* requests_instantiate(const host_request_template* t, host_call* call);
/* Checks every requested output of a sent response (see requests.c) and formats the response
 * as the v2 JSON line, with each output's "data" only when with_data. NULL and *err (malloc'd)
 * on a malformed output: the same breaches are found with or without data. */
char* requests_format_response(TRITONBACKEND_Response* response, bool with_data, char** err);
char* requests_error_json(const char* message);
/* {"error":"...","code":"INVALID_ARG"}: an error response the backend sent, with its code (the
 * host's own output format; Triton's HTTP front end maps the code to the status instead); no
 * "code" when code is NULL. */
char* requests_backend_error_json(const char* message, const char* code);
/* Poisons a released request's input buffers and retires it for deferred freeing. */
void requests_retire(TRITONBACKEND_Request* request);
void requests_free_all_retired(void);
uint64_t host_now_ns(void);
long host_gettid(void);

/* ---------------------------------------------------------------- models.c */

TRITONBACKEND_Model* models_load(const char* repo, const char* name);
void models_unload(TRITONBACKEND_Model* model);
void models_finalize_backends(void);
void models_free(TRITONBACKEND_Model* model);

/* ---------------------------------------------------------------- scheduler.c */

void scheduler_init(TRITONBACKEND_Model* model);
int scheduler_start(TRITONBACKEND_Model* model);
void scheduler_enqueue(TRITONBACKEND_Model* model, TRITONBACKEND_Request* request);
/* Unload begins: from now on a new request is answered with an error at once (Triton's front
 * end refuses a model that is unloading); queued and executing ones still run. */
void scheduler_close(TRITONBACKEND_Model* model);
/* Stops accepting work, lets the instance threads drain the queue and joins them. */
void scheduler_stop(TRITONBACKEND_Model* model);
void histogram_add(host_histogram* h, uint64_t value);

#endif /* TRITON_HOST_H */
