/*
 * The TRITONSERVER_* half of the API that backends call: errors, messages, parameters,
 * logging and custom metrics, with Triton's ownership rules enforced.
 *
 * Ownership, as in tritonserver.h:
 *   - A TRITONSERVER_Error* returned to the backend (by ErrorNew or by a failing API call)
 *     belongs to the backend, which must call ErrorDelete exactly once. An error the backend
 *     returns from an entry point passes to the host, which deletes it.
 *   - A message from ModelConfig or MessageNewFromSerializedJson belongs to the caller; the
 *     message from BackendConfig belongs to the server and must not be deleted.
 *   - Parameters, metric families and metrics are deleted by whoever created them; a family
 *     cannot be deleted while metrics of it are alive (Triton returns an error).
 * Every such object is registered while alive; what is still alive at exit is a leak breach.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

host_options g_host_options = {
    .backend_dir = NULL,
    .auto_complete = true,
    .gpus = 0,
    .frontend_checks = true,
    .input_chunks = 1,
    .log_verbose = false,
    .response_timeout_s = 120.0,
};

static char*
server_api_vformat(const char* fmt, va_list ap)
{
  char* out = NULL;
  if (vasprintf(&out, fmt, ap) < 0) {
    contracts_fatal("host out of memory formatting a message");
  }
  return out;
}

char*
host_printf(const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char* out = server_api_vformat(fmt, ap);
  va_end(ap);
  return out;
}

/* ---------------------------------------------------------------- errors */

static TRITONSERVER_Error*
server_api_error_alloc(TRITONSERVER_Error_Code code, char* msg)
{
  TRITONSERVER_Error* err = malloc(sizeof(*err));
  if (err == NULL) {
    contracts_fatal("host out of memory creating an error");
  }
  err->code = code;
  err->msg = msg;
  registry_add(err, HK_ERROR);
  return err;
}

TRITONSERVER_Error*
host_error(TRITONSERVER_Error_Code code, const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char* msg = server_api_vformat(fmt, ap);
  va_end(ap);
  return server_api_error_alloc(code, msg);
}

/* Contract: the error must be a live error; the backend owns it. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_ErrorNew(TRITONSERVER_Error_Code code, const char* msg)
{
  return server_api_error_alloc(code, strdup(msg != NULL ? msg : ""));
}

/* Contract: each error is deleted exactly once; deleting nullptr is allowed. */
HOST_API void
TRITONSERVER_ErrorDelete(TRITONSERVER_Error* error)
{
  if (error == NULL) {
    return;
  }
  if (!registry_remove(error, HK_ERROR)) {
    contracts_breach(
        "TRITONSERVER_ErrorDelete(%p): not a live error (deleted twice, or owned by the host)",
        (void*)error);
    return;
  }
  free(error->msg);
  free(error);
}

static bool
server_api_error_ok(TRITONSERVER_Error* error, const char* fn)
{
  if (registry_kind(error) != HK_ERROR) {
    contracts_breach("%s(%p): not a live error (already deleted?)", fn, (void*)error);
    return false;
  }
  return true;
}

HOST_API TRITONSERVER_Error_Code
TRITONSERVER_ErrorCode(TRITONSERVER_Error* error)
{
  return server_api_error_ok(error, "TRITONSERVER_ErrorCode") ? error->code
                                                              : TRITONSERVER_ERROR_UNKNOWN;
}

static const char*
server_api_code_string(TRITONSERVER_Error_Code code)
{
  switch (code) {
    case TRITONSERVER_ERROR_UNKNOWN: return "Unknown";
    case TRITONSERVER_ERROR_INTERNAL: return "Internal";
    case TRITONSERVER_ERROR_NOT_FOUND: return "Not found";
    case TRITONSERVER_ERROR_INVALID_ARG: return "Invalid argument";
    case TRITONSERVER_ERROR_UNAVAILABLE: return "Unavailable";
    case TRITONSERVER_ERROR_UNSUPPORTED: return "Unsupported";
    case TRITONSERVER_ERROR_ALREADY_EXISTS: return "Already exists";
    case TRITONSERVER_ERROR_CANCELLED: return "Cancelled";
  }
  return "<invalid code>";
}

HOST_API const char*
TRITONSERVER_ErrorCodeString(TRITONSERVER_Error* error)
{
  if (!server_api_error_ok(error, "TRITONSERVER_ErrorCodeString")) {
    return "<invalid error>";
  }
  return server_api_code_string(error->code);
}

HOST_API const char*
TRITONSERVER_ErrorMessage(TRITONSERVER_Error* error)
{
  if (!server_api_error_ok(error, "TRITONSERVER_ErrorMessage")) {
    return "<invalid error>";
  }
  return error->msg;
}

char*
host_error_consume(TRITONSERVER_Error* err, const char* entry_point)
{
  if (err == NULL) {
    return NULL;
  }
  if (!registry_remove(err, HK_ERROR)) {
    contracts_breach(
        "%s returned %p, which is not a live TRITONSERVER_Error (deleted already?)",
        entry_point, (void*)err);
    return strdup("<invalid error returned by the backend>");
  }
  char* msg = err->msg;
  free(err);
  return msg;
}

char*
host_error_peek(TRITONSERVER_Error* err, const char* where)
{
  if (registry_kind(err) != HK_ERROR) {
    contracts_breach("%s: error %p is not a live TRITONSERVER_Error", where, (void*)err);
    return strdup("<invalid error passed by the backend>");
  }
  return strdup(err->msg);
}

const char*
host_error_code_name(TRITONSERVER_Error* err)
{
  if (registry_kind(err) != HK_ERROR) {
    return "UNKNOWN";
  }
  switch (err->code) {
    case TRITONSERVER_ERROR_UNKNOWN: return "UNKNOWN";
    case TRITONSERVER_ERROR_INTERNAL: return "INTERNAL";
    case TRITONSERVER_ERROR_NOT_FOUND: return "NOT_FOUND";
    case TRITONSERVER_ERROR_INVALID_ARG: return "INVALID_ARG";
    case TRITONSERVER_ERROR_UNAVAILABLE: return "UNAVAILABLE";
    case TRITONSERVER_ERROR_UNSUPPORTED: return "UNSUPPORTED";
    case TRITONSERVER_ERROR_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case TRITONSERVER_ERROR_CANCELLED: return "CANCELLED";
  }
  return "UNKNOWN";
}

/* ---------------------------------------------------------------- messages */

TRITONSERVER_Message*
host_message_new(const char* json, size_t len, bool host_owned)
{
  TRITONSERVER_Message* msg = calloc(1, sizeof(*msg));
  if (msg == NULL || (msg->json = malloc(len + 1)) == NULL) {
    contracts_fatal("host out of memory creating a message");
  }
  memcpy(msg->json, json, len);
  msg->json[len] = '\0';
  msg->len = len;
  msg->host_owned = host_owned;
  registry_add(msg, HK_MESSAGE);
  return msg;
}

void
host_message_free(TRITONSERVER_Message* msg)
{
  if (msg != NULL) {
    registry_remove(msg, HK_MESSAGE);
    free(msg->json);
    free(msg);
  }
}

/* Contract: the caller owns the new message and must delete it. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MessageNewFromSerializedJson(
    TRITONSERVER_Message** message, const char* base, size_t byte_size)
{
  if (message == NULL || (base == NULL && byte_size > 0)) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "message or base is nullptr");
  }
  cJSON* doc = cJSON_ParseWithLength(base, byte_size);
  if (doc == NULL) {
    return host_error(
        TRITONSERVER_ERROR_INVALID_ARG, "failed to parse the request JSON buffer: invalid JSON");
  }
  cJSON_Delete(doc);
  *message = host_message_new(base, byte_size, false);
  return NULL;
}

/* Contract: delete only messages the caller owns, exactly once. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MessageDelete(TRITONSERVER_Message* message)
{
  if (registry_kind(message) != HK_MESSAGE) {
    contracts_breach(
        "TRITONSERVER_MessageDelete(%p): not a live message (deleted twice?)", (void*)message);
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid message");
  }
  if (message->host_owned) {
    contracts_breach(
        "TRITONSERVER_MessageDelete(%p): the message from TRITONBACKEND_BackendConfig is owned "
        "by Triton and must not be deleted",
        (void*)message);
    return NULL;
  }
  host_message_free(message);
  return NULL;
}

/* The returned buffer belongs to the message and lives as long as it. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MessageSerializeToJson(
    TRITONSERVER_Message* message, const char** base, size_t* byte_size)
{
  if (registry_kind(message) != HK_MESSAGE) {
    contracts_breach(
        "TRITONSERVER_MessageSerializeToJson(%p): not a live message", (void*)message);
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid message");
  }
  if (base == NULL || byte_size == NULL) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "base or byte_size is nullptr");
  }
  *base = message->json;
  *byte_size = message->len;
  return NULL;
}

/* ---------------------------------------------------------------- parameters */

struct TRITONSERVER_Parameter {
  char* name;
  TRITONSERVER_ParameterType type;
  char* str;
  int64_t i;
  bool b;
  double d;
};

/* Contract: the caller owns the parameter and deletes it with ParameterDelete. BYTES needs a
 * size and is created with ParameterBytesNew in Triton, so it is refused here (nullptr). */
HOST_API TRITONSERVER_Parameter*
TRITONSERVER_ParameterNew(
    const char* name, const TRITONSERVER_ParameterType type, const void* value)
{
  if (name == NULL || value == NULL) {
    return NULL;
  }
  TRITONSERVER_Parameter* p = calloc(1, sizeof(*p));
  if (p == NULL) {
    contracts_fatal("host out of memory creating a parameter");
  }
  p->type = type;
  switch (type) {
    case TRITONSERVER_PARAMETER_STRING: p->str = strdup((const char*)value); break;
    case TRITONSERVER_PARAMETER_INT: p->i = *(const int64_t*)value; break;
    case TRITONSERVER_PARAMETER_BOOL: p->b = *(const bool*)value; break;
    case TRITONSERVER_PARAMETER_DOUBLE: p->d = *(const double*)value; break;
    default: free(p); return NULL;
  }
  p->name = strdup(name);
  registry_add(p, HK_PARAMETER);
  return p;
}

HOST_API void
TRITONSERVER_ParameterDelete(TRITONSERVER_Parameter* parameter)
{
  if (parameter == NULL) {
    return;
  }
  if (!registry_remove(parameter, HK_PARAMETER)) {
    contracts_breach(
        "TRITONSERVER_ParameterDelete(%p): not a live parameter (deleted twice?)",
        (void*)parameter);
    return;
  }
  free(parameter->name);
  free(parameter->str);
  free(parameter);
}

/* ---------------------------------------------------------------- logging */

HOST_API bool
TRITONSERVER_LogIsEnabled(TRITONSERVER_LogLevel level)
{
  return level != TRITONSERVER_LOG_VERBOSE || g_host_options.log_verbose;
}

static void
server_api_log_line(TRITONSERVER_LogLevel level, const char* file, int line, const char* msg)
{
  if (!TRITONSERVER_LogIsEnabled(level)) {
    return;
  }
  static const char levels[] = {'I', 'W', 'E', 'V'};
  char lc = (unsigned)level < sizeof(levels) ? levels[level] : 'I';
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  const char* base = file != NULL ? strrchr(file, '/') : NULL;
  base = base != NULL ? base + 1 : (file != NULL ? file : "");
  /* One fprintf per line keeps lines whole across threads. */
  fprintf(
      stderr, "%c%02d%02d %02d:%02d:%02d.%06ld %u %s:%d] %s\n", lc, tm.tm_mon + 1,
      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec, (unsigned)getpid(),
      base, line, msg != NULL ? msg : "");
}

HOST_API TRITONSERVER_Error*
TRITONSERVER_LogMessage(
    TRITONSERVER_LogLevel level, const char* filename, const int line, const char* msg)
{
  server_api_log_line(level, filename, line, msg);
  return NULL;
}

void
host_log(TRITONSERVER_LogLevel level, const char* file, int line, const char* fmt, ...)
{
  if (!TRITONSERVER_LogIsEnabled(level)) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  char* msg = server_api_vformat(fmt, ap);
  va_end(ap);
  server_api_log_line(level, file, line, msg);
  free(msg);
}

/* ---------------------------------------------------------------- metrics */

struct TRITONSERVER_Metric;

struct TRITONSERVER_MetricFamily {
  TRITONSERVER_MetricKind kind;
  char* name;
  char* description;
  struct TRITONSERVER_Metric** metrics;
  size_t metric_count, metric_cap;
  struct TRITONSERVER_MetricFamily* next;
};

struct TRITONSERVER_Metric {
  TRITONSERVER_MetricFamily* family;
  char** label_keys;
  char** label_values;
  uint64_t label_count;
  double value;
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static TRITONSERVER_MetricFamily* metrics_families; /* newest first */

/* Contract: COUNTER and GAUGE; HISTOGRAM needs MetricArgs, which this API subset lacks. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricFamilyNew(
    TRITONSERVER_MetricFamily** family, const TRITONSERVER_MetricKind kind, const char* name,
    const char* description)
{
  if (family == NULL || name == NULL) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "family or name is nullptr");
  }
  if (kind != TRITONSERVER_METRIC_KIND_COUNTER && kind != TRITONSERVER_METRIC_KIND_GAUGE) {
    return host_error(
        TRITONSERVER_ERROR_UNSUPPORTED, "metric kind %d is not supported by the host", kind);
  }
  TRITONSERVER_MetricFamily* f = calloc(1, sizeof(*f));
  if (f == NULL) {
    contracts_fatal("host out of memory creating a metric family");
  }
  f->kind = kind;
  f->name = strdup(name);
  f->description = strdup(description != NULL ? description : "");
  pthread_mutex_lock(&metrics_lock);
  f->next = metrics_families;
  metrics_families = f;
  pthread_mutex_unlock(&metrics_lock);
  registry_add(f, HK_METRIC_FAMILY);
  *family = f;
  return NULL;
}

/* Contract: every metric of the family must be deleted first; otherwise Triton returns an
 * error and keeps the family. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricFamilyDelete(TRITONSERVER_MetricFamily* family)
{
  if (registry_kind(family) != HK_METRIC_FAMILY) {
    contracts_breach(
        "TRITONSERVER_MetricFamilyDelete(%p): not a live metric family", (void*)family);
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric family");
  }
  pthread_mutex_lock(&metrics_lock);
  if (family->metric_count > 0) {
    pthread_mutex_unlock(&metrics_lock);
    return host_error(
        TRITONSERVER_ERROR_INTERNAL,
        "Must call MetricDelete on all dependent metrics before calling MetricFamilyDelete.");
  }
  for (TRITONSERVER_MetricFamily** p = &metrics_families; *p != NULL; p = &(*p)->next) {
    if (*p == family) {
      *p = family->next;
      break;
    }
  }
  pthread_mutex_unlock(&metrics_lock);
  registry_remove(family, HK_METRIC_FAMILY);
  free(family->name);
  free(family->description);
  free(family->metrics);
  free(family);
  return NULL;
}

/* Contract: labels are STRING parameters; they may be deleted right after this call. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricNew(
    TRITONSERVER_Metric** metric, TRITONSERVER_MetricFamily* family,
    const TRITONSERVER_Parameter** labels, const uint64_t label_count)
{
  if (registry_kind(family) != HK_METRIC_FAMILY) {
    contracts_breach("TRITONSERVER_MetricNew: family %p is not a live metric family",
                     (void*)family);
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric family");
  }
  if (metric == NULL || (labels == NULL && label_count > 0)) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "metric or labels is nullptr");
  }
  for (uint64_t i = 0; i < label_count; ++i) {
    if (registry_kind(labels[i]) != HK_PARAMETER) {
      contracts_breach("TRITONSERVER_MetricNew: label %llu (%p) is not a live parameter",
                       (unsigned long long)i, (const void*)labels[i]);
      return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid label parameter");
    }
    if (labels[i]->type != TRITONSERVER_PARAMETER_STRING) {
      return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                        "metric labels must be STRING parameters");
    }
  }
  TRITONSERVER_Metric* m = calloc(1, sizeof(*m));
  if (m == NULL) {
    contracts_fatal("host out of memory creating a metric");
  }
  m->family = family;
  m->label_count = label_count;
  m->label_keys = calloc(label_count + 1, sizeof(char*));
  m->label_values = calloc(label_count + 1, sizeof(char*));
  for (uint64_t i = 0; i < label_count; ++i) {
    m->label_keys[i] = strdup(labels[i]->name);
    m->label_values[i] = strdup(labels[i]->str);
  }
  pthread_mutex_lock(&metrics_lock);
  if (family->metric_count == family->metric_cap) {
    family->metric_cap = family->metric_cap ? family->metric_cap * 2 : 8;
    family->metrics = realloc(family->metrics, family->metric_cap * sizeof(*family->metrics));
  }
  family->metrics[family->metric_count++] = m;
  pthread_mutex_unlock(&metrics_lock);
  registry_add(m, HK_METRIC);
  *metric = m;
  return NULL;
}

static bool
metrics_check(TRITONSERVER_Metric* metric, const char* fn)
{
  if (registry_kind(metric) != HK_METRIC) {
    contracts_breach("%s(%p): not a live metric (deleted already?)", fn, (void*)metric);
    return false;
  }
  return true;
}

HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricDelete(TRITONSERVER_Metric* metric)
{
  if (!metrics_check(metric, "TRITONSERVER_MetricDelete")) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric");
  }
  registry_remove(metric, HK_METRIC);
  pthread_mutex_lock(&metrics_lock);
  TRITONSERVER_MetricFamily* f = metric->family;
  for (size_t i = 0; i < f->metric_count; ++i) {
    if (f->metrics[i] == metric) {
      memmove(&f->metrics[i], &f->metrics[i + 1], (f->metric_count - i - 1) * sizeof(void*));
      f->metric_count--;
      break;
    }
  }
  pthread_mutex_unlock(&metrics_lock);
  for (uint64_t i = 0; i < metric->label_count; ++i) {
    free(metric->label_keys[i]);
    free(metric->label_values[i]);
  }
  free(metric->label_keys);
  free(metric->label_values);
  free(metric);
  return NULL;
}

HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricValue(TRITONSERVER_Metric* metric, double* value)
{
  if (!metrics_check(metric, "TRITONSERVER_MetricValue")) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric");
  }
  if (value == NULL) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "value is nullptr");
  }
  pthread_mutex_lock(&metrics_lock);
  *value = metric->value;
  pthread_mutex_unlock(&metrics_lock);
  return NULL;
}

/* Contract: a counter only goes up. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricIncrement(TRITONSERVER_Metric* metric, double value)
{
  if (!metrics_check(metric, "TRITONSERVER_MetricIncrement")) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric");
  }
  if (metric->family->kind == TRITONSERVER_METRIC_KIND_COUNTER && value < 0.0) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG,
                      "TRITONSERVER_METRIC_KIND_COUNTER can only be incremented "
                      "monotonically by non-negative values.");
  }
  pthread_mutex_lock(&metrics_lock);
  metric->value += value;
  pthread_mutex_unlock(&metrics_lock);
  return NULL;
}

/* Contract: only gauges can be set. */
HOST_API TRITONSERVER_Error*
TRITONSERVER_MetricSet(TRITONSERVER_Metric* metric, double value)
{
  if (!metrics_check(metric, "TRITONSERVER_MetricSet")) {
    return host_error(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric");
  }
  if (metric->family->kind != TRITONSERVER_METRIC_KIND_GAUGE) {
    return host_error(TRITONSERVER_ERROR_UNSUPPORTED,
                      "TRITONSERVER_METRIC_KIND_COUNTER does not support Set");
  }
  pthread_mutex_lock(&metrics_lock);
  metric->value = value;
  pthread_mutex_unlock(&metrics_lock);
  return NULL;
}

static void
metrics_write_escaped(FILE* f, const char* s, bool label)
{
  for (; *s; ++s) {
    if (*s == '\\') {
      fputs("\\\\", f);
    } else if (*s == '\n') {
      fputs("\\n", f);
    } else if (label && *s == '"') {
      fputs("\\\"", f);
    } else {
      fputc(*s, f);
    }
  }
}

static void
metrics_write_value(FILE* f, double v)
{
  if (isnan(v)) {
    fputs("NaN", f);
  } else if (isinf(v)) {
    fputs(v > 0 ? "+Inf" : "-Inf", f);
  } else {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v) {
      snprintf(buf, sizeof(buf), "%.17g", v);
    }
    fputs(buf, f);
  }
}

int
metrics_write_prometheus(const char* path)
{
  FILE* f = fopen(path, "w");
  if (f == NULL) {
    return -1;
  }
  pthread_mutex_lock(&metrics_lock);
  /* Oldest family first: reverse the list into an array. */
  size_t n = 0;
  for (TRITONSERVER_MetricFamily* fam = metrics_families; fam; fam = fam->next) {
    n++;
  }
  TRITONSERVER_MetricFamily** order = calloc(n + 1, sizeof(void*));
  size_t k = n;
  for (TRITONSERVER_MetricFamily* fam = metrics_families; fam; fam = fam->next) {
    order[--k] = fam;
  }
  for (size_t i = 0; i < n; ++i) {
    TRITONSERVER_MetricFamily* fam = order[i];
    fprintf(f, "# HELP %s ", fam->name);
    metrics_write_escaped(f, fam->description, false);
    fprintf(f, "\n# TYPE %s %s\n", fam->name,
            fam->kind == TRITONSERVER_METRIC_KIND_COUNTER ? "counter" : "gauge");
    for (size_t j = 0; j < fam->metric_count; ++j) {
      TRITONSERVER_Metric* m = fam->metrics[j];
      fputs(fam->name, f);
      if (m->label_count > 0) {
        fputc('{', f);
        for (uint64_t l = 0; l < m->label_count; ++l) {
          fprintf(f, "%s%s=\"", l ? "," : "", m->label_keys[l]);
          metrics_write_escaped(f, m->label_values[l], true);
          fputc('"', f);
        }
        fputc('}', f);
      }
      fputc(' ', f);
      metrics_write_value(f, m->value);
      fputc('\n', f);
    }
  }
  pthread_mutex_unlock(&metrics_lock);
  free(order);
  return fclose(f) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- leak checks at exit */

typedef struct leak_ctx {
  size_t count;
  char sample[512];
} leak_ctx;

static void
leak_error(const void* handle, void* vctx)
{
  leak_ctx* ctx = vctx;
  const TRITONSERVER_Error* e = handle;
  if (ctx->count++ < 3) {
    size_t used = strlen(ctx->sample);
    snprintf(ctx->sample + used, sizeof(ctx->sample) - used, "%s\"%.120s\"",
             used ? ", " : "", e->msg);
  }
}

static void
leak_message(const void* handle, void* vctx)
{
  leak_ctx* ctx = vctx;
  const TRITONSERVER_Message* m = handle;
  if (!m->host_owned) {
    ctx->count++;
  }
}

static void
leak_count(const void* handle, void* vctx)
{
  (void)handle;
  ((leak_ctx*)vctx)->count++;
}

void
server_api_check_leaks(void)
{
  leak_ctx ctx = {0};
  registry_each(HK_ERROR, leak_error, &ctx);
  if (ctx.count > 0) {
    contracts_breach("%zu TRITONSERVER_Error object(s) never deleted, e.g. %s", ctx.count,
                     ctx.sample);
  }
  memset(&ctx, 0, sizeof(ctx));
  registry_each(HK_MESSAGE, leak_message, &ctx);
  if (ctx.count > 0) {
    contracts_breach(
        "%zu TRITONSERVER_Message object(s) (from TRITONBACKEND_ModelConfig or "
        "MessageNewFromSerializedJson) never deleted",
        ctx.count);
  }
  memset(&ctx, 0, sizeof(ctx));
  registry_each(HK_PARAMETER, leak_count, &ctx);
  if (ctx.count > 0) {
    contracts_breach("%zu TRITONSERVER_Parameter object(s) never deleted", ctx.count);
  }
  memset(&ctx, 0, sizeof(ctx));
  registry_each(HK_METRIC, leak_count, &ctx);
  if (ctx.count > 0) {
    contracts_breach("%zu TRITONSERVER_Metric object(s) never deleted", ctx.count);
  }
  memset(&ctx, 0, sizeof(ctx));
  registry_each(HK_METRIC_FAMILY, leak_count, &ctx);
  if (ctx.count > 0) {
    contracts_breach("%zu TRITONSERVER_MetricFamily object(s) never deleted", ctx.count);
  }
}
